// allmaps-read.mjs FILE...: parses each Georeference Annotation (or AnnotationPage) file with
// Allmaps' own parser (@allmaps/annotation, pinned in web/package.json, installed by
// scripts/install-web into build/web or $WEB_DIR) and prints, as one JSON array, what it read
// back: per file, the list of maps with their resource, GCPs, resource mask and transformation.
// Exits 1 with the parser's message when a file does not parse.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const webDir = process.env.WEB_DIR || path.join(here, '..', '..', 'build', 'web');
const entry = path.join(webDir, 'node_modules', '@allmaps', 'annotation', 'dist', 'index.js');
if (!fs.existsSync(entry)) {
  console.error(`allmaps-read: ${entry} is missing: run scripts/install-web`);
  process.exit(2);
}
const { parseAnnotation } = await import(pathToFileURL(entry).href);

const out = [];
for (const file of process.argv.slice(2)) {
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  let maps;
  try {
    maps = parseAnnotation(doc);
  } catch (e) {
    console.error(`allmaps-read: ${file}: ${e.message}`);
    process.exit(1);
  }
  out.push(maps.map((m) => ({
    id: m.id,
    resource: { id: m.resource.id, type: m.resource.type, width: m.resource.width,
                height: m.resource.height },
    gcps: m.gcps.map((g) => ({ resource: g.resource, geo: g.geo })),
    resourceMask: m.resourceMask,
    transformation: m.transformation ?? null,
  })));
}
process.stdout.write(JSON.stringify(out));
