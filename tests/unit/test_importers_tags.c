/*
 * test_importers_tags.c: COCO detection JSON and tag CSV files written to a temporary folder,
 * imported through a resolver, and compared field by field; broken and hostile variants.
 */
#include "importers_fixture.h"

/* ---- COCO and CSV: images resolved next to the file ---------------------------------------- */

static int resolve(void *ctx, const char *name, struct anno_target *t)
{
	int *calls = ctx;
	(*calls)++;
	if (strcmp(name, "a.jpg") == 0)
		*t = (struct anno_target){"set/a.jpg", 0, 1000, 500};
	else if (strcmp(name, "sub/b.tif") == 0)
		*t = (struct anno_target){"set/sub/b.tif", 2, 1000, 1000};
	else if (strcmp(name, "nosize.jpg") == 0)
		*t = (struct anno_target){"set/nosize.jpg", 0, 0, 0};
	else
		return -1;
	return 0;
}

static const char coco_sample[] =
	"{\n"
	"  \"info\": {\"description\": \"YOLOv8 detector\", \"contributor\": \"someone\"},\n"
	"  \"images\": [\n"
	"    {\"id\": 7, \"file_name\": \"a.jpg\", \"width\": 2000, \"height\": 1000},\n"
	"    {\"id\": 3, \"file_name\": \"sub/b.tif\", \"width\": 500, \"height\": 500}\n"
	"  ],\n"
	"  \"categories\": [{\"id\": 1, \"name\": \"person\"}, {\"id\": 2, \"name\": \"dog\"}],\n"
	"  \"annotations\": [\n"
	"    {\"id\": 1, \"image_id\": 7, \"category_id\": 1, \"bbox\": [100, 200, 300, 400], "
	"\"score\": 0.875, \"segmentation\": [[1, 2, 3, 4]], \"iscrowd\": 0},\n"
	"    {\"id\": 2, \"image_id\": 3, \"category_id\": 2, \"bbox\": [10, 20.5, 30, 40]},\n"
	"    {\"id\": 3, \"image_id\": 7, \"category_id\": 2},\n"
	"    {\"id\": 4, \"image_id\": 3, \"category_id\": 1, \"bbox\": null, \"score\": 0.5},\n"
	"    {\"id\": 5, \"image_id\": 7, \"category_id\": 1, \"bbox\": [1990, 990, 50, 50]},\n"
	"    {\"id\": 6, \"image_id\": 7, \"category_id\": 1, \"bbox\": [3000, 10, 5, 5]}\n"
	"  ]\n"
	"}\n";

static void test_coco(void)
{
	struct anno_list out = {0};
	struct anno_import_error err;
	int calls = 0;
	int rc = anno_import_coco(fx("det.json", coco_sample), resolve, &calls, &out, &err);
	CHECK_INT(rc, 0, "coco");
	CHECK_INT(calls, 2, "coco: one resolve per image");
	const char *g = "YOLOv8 detector", *a = "set/a.jpg", *b = "set/sub/b.tif";
	struct want w[] = {
		/* a.jpg is 2000x1000 in COCO, 1000x500 as a Canvas; b.tif 500x500 and 1000x1000 */
		{a, 0, "tagging", NULL, "person", NULL, true, 50, 100, 150, 200, true, 0.875, g, 1,
		 NULL},
		{b, 2, "tagging", NULL, "dog", NULL, true, 20, 41, 60, 80, false, 0, g, 2, NULL},
		{a, 0, "tagging", NULL, "dog", NULL, false, 0, 0, 0, 0, false, 0, g, 3, NULL},
		{b, 2, "tagging", NULL, "person", NULL, false, 0, 0, 0, 0, true, 0.5, g, 4, NULL},
		{a, 0, "tagging", NULL, "person", NULL, true, 995, 495, 5, 5, false, 0, g, 5, NULL},
	};
	CHECK_INT(out.count, 5, "coco count");
	for (size_t i = 0; i < 5; i++)
		check_rec(&out, i, &w[i], "coco");
	CHECK(strstr(err.msg, "1 box outside the Canvas") && !strstr(err.msg, "line"),
	      "coco note: %s", err.msg);
	anno_list_release(&out);

	const char *contrib = "{\"info\": {\"contributor\": \"Jane\"}, \"images\": [{\"id\": 1, "
			      "\"file_name\": \"a.jpg\", \"width\": 10, \"height\": 10}], "
			      "\"categories\": [{\"id\": 1, \"name\": \"cat\"}], \"annotations\": "
			      "[{\"image_id\": 1, \"category_id\": 1}]}";
	CHECK_INT(anno_import_coco(fx("c.json", contrib), resolve, &calls, &out, &err), 0,
		  "coco contributor");
	CHECK(out.count == 1 && str_eq(out.items[0].generator, "Jane"), "generator = contributor");
	anno_list_release(&out);
	const char *model = "{\"info\": {\"model\": \"detr-resnet\"}, \"images\": [], "
			    "\"categories\": [], \"annotations\": []}";
	CHECK_INT(anno_import_coco(fx("m.json", model), resolve, &calls, &out, &err), 0,
		  "coco empty");
	CHECK_INT(out.count, 0, "coco empty count");
	anno_list_release(&out);
}

#define COCO_HEAD                                                                        \
	"{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"width\": 100, \"height\": 50}" \
	"], \"categories\": [{\"id\": 1, \"name\": \"cat\"}], \"annotations\": ["            \
	"{\"image_id\": 1, \"category_id\": 1, \"bbox\": [1, 2, 3, 4]}, "

static const struct bad_case coco_bad[] = {
	{"syntax", "{\n\"images\": [\n,]\n}\n", 3, "JSON: "},
	{"not object", "[1, 2]", 1, "the top level is not an object"},
	{"no images", "{\"categories\": [], \"annotations\": []}", 0, "no \"images\" array"},
	{"no annotations", "{\"images\": [], \"categories\": []}", 0, "no \"annotations\" array"},
	{"no categories", "{\"images\": [], \"annotations\": []}", 0, "no \"categories\" array"},
	{"unknown image", COCO_HEAD "{\"image_id\": 99, \"category_id\": 1}]}", 0,
	 "annotations[1].image_id 99: no such image"},
	{"unknown category", COCO_HEAD "{\"image_id\": 1, \"category_id\": 5}]}", 0,
	 "annotations[1].category_id 5: no such category"},
	{"bbox of 3", COCO_HEAD "{\"image_id\": 1, \"category_id\": 1, \"bbox\": [1, 2, 3]}]}", 0,
	 "annotations[1].bbox: not 4 numbers"},
	{"bbox string", COCO_HEAD "{\"image_id\": 1, \"category_id\": 1, \"bbox\": "
	 "[1, 2, \"3\", 4]}]}", 0, "annotations[1].bbox: not 4 numbers"},
	{"negative size", COCO_HEAD "{\"image_id\": 1, \"category_id\": 1, \"bbox\": "
	 "[1, 2, -3, 4]}]}", 0, "annotations[1].bbox: negative width or height"},
	{"score", COCO_HEAD "{\"image_id\": 1, \"category_id\": 1, \"score\": 1.5}]}", 0,
	 "annotations[1].score: not a number from 0 to 1"},
	{"image id string", COCO_HEAD "{\"image_id\": \"1\", \"category_id\": 1}]}", 0,
	 "annotations[1].image_id: not an integer"},
	{"unresolved", "{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"width\": 1, "
	 "\"height\": 1}, {\"id\": 2, \"file_name\": \"x.jpg\", \"width\": 1, \"height\": 1}]}", 0,
	 "images[1].file_name 'x.jpg': no such image next to the file"},
	{"no canvas size", "{\"images\": [{\"id\": 1, \"file_name\": \"nosize.jpg\", \"width\": 1,"
	 " \"height\": 1}]}", 0, "images[0].file_name 'nosize.jpg': the image has no size"},
	{"no width", "{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"height\": 1}]}", 0,
	 "images[0].width: not a positive number"},
	{"duplicate image", "{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"width\": 1, "
	 "\"height\": 1}, {\"id\": 1, \"file_name\": \"a.jpg\", \"width\": 1, \"height\": 1}]}", 0,
	 "images[1].id 1: used twice"},
	{"category name", "{\"images\": [], \"categories\": [{\"id\": 4}]}", 0,
	 "categories[0].name: not a string"},
};

static void test_coco_errors(void)
{
	int calls = 0;
	for (size_t i = 0; i < sizeof coco_bad / sizeof coco_bad[0]; i++) {
		const struct bad_case *c = &coco_bad[i];
		struct anno_list out = {0};
		struct anno_import_error err;
		int rc = anno_import_coco(fx("bad.json", c->text), resolve, &calls, &out, &err);
		check_fails(rc, &out, 0, &err, c->line, c->msg, c->name);
		anno_list_release(&out);
	}
	/* 100,000 nested arrays: jansson's depth limit */
	size_t n = 100000;
	char *deep = malloc(n + 16);
	memcpy(deep, "{\"images\": ", 11);
	memset(deep + 11, '[', n - 11);
	struct anno_list out = {0};
	struct anno_import_error err;
	int rc = anno_import_coco(fx_len("deep.json", deep, n), resolve, &calls, &out, &err);
	check_fails(rc, &out, 0, &err, 1, "depth", "deep JSON");
	free(deep);
	/* a (sparse) file over the size limit is refused before it is read */
	const char *huge = fx("huge.json", "{");
	CHECK(truncate(huge, 300 << 20) == 0, "truncate");
	rc = anno_import_coco(huge, resolve, &calls, &out, &err);
	check_fails(rc, &out, 0, &err, 0, "COCO file larger than 256 MiB", "huge JSON");
	rc = anno_import_coco(fx("missing/x.json", ""), resolve, &calls, &out, &err);
	check_fails(rc, &out, 0, &err, 0, "cannot open", "missing JSON");
}

static const char csv_sample[] =
	"\xEF\xBB\xBF File , X,y,W,h , Label,SCORE\n"
	"a.jpg,10,20,30,40,cat,0.9\n"
	"\"sub/b.tif\",,,,,\"big, \"\"quoted\"\" label\",\n"
	"\n"
	"a.jpg, 990 , 490 ,100,100,\"multi\n"
	"line\",1\r\n"
	"a.jpg,2000,10,5,5,gone,\n"
	"sub/b.tif,1.5,2.5,3,4,  spaced label  , 0 \n";

static void test_csv(void)
{
	struct anno_list out = {0};
	struct anno_import_error err;
	int calls = 0;
	CHECK_INT(anno_import_csv(fx("tags.csv", csv_sample), resolve, &calls, &out, &err), 0,
		  "csv");
	const char *a = "set/a.jpg", *b = "set/sub/b.tif";
	struct want w[] = {
		{a, 0, "tagging", NULL, "cat", NULL, true, 10, 20, 30, 40, true, 0.9, NULL, 1, NULL},
		{b, 2, "tagging", NULL, "big, \"quoted\" label", NULL, false, 0, 0, 0, 0, false, 0,
		 NULL, 2, NULL},
		{a, 0, "tagging", NULL, "multi\nline", NULL, true, 990, 490, 10, 10, true, 1, NULL,
		 3, NULL},
		{b, 2, "tagging", NULL, "spaced label", NULL, true, 1.5, 2.5, 3, 4, true, 0, NULL, 4,
		 NULL},
	};
	CHECK_INT(out.count, 4, "csv count");
	for (size_t i = 0; i < 4; i++)
		check_rec(&out, i, &w[i], "csv");
	CHECK_INT(err.line, 7, "csv: dropped row");
	CHECK(strstr(err.msg, "1 box outside the Canvas") != NULL, "csv note: %s", err.msg);
	anno_list_release(&out);
}

#define CSV_HEAD "file,x,y,w,h,label,score\n"

static const struct bad_case csv_bad[] = {
	{"header", "file,x,y,w,h,label\na.jpg,1,2,3,4,cat\n", 1,
	 "the header must be file,x,y,w,h,label,score"},
	{"empty", "", 1, "empty file: no header"},
	{"columns", CSV_HEAD "a.jpg,1,2,3,4,cat,\n\na.jpg,1,2,3,4,cat\n", 4,
	 "6 columns, expected 7"},
	{"too many", CSV_HEAD "a.jpg,1,2,3,4,cat,0.5,extra\n", 2, "8 columns, expected 7"},
	{"number", CSV_HEAD "a.jpg,1,zz,3,4,cat,\n", 2, "y: 'zz' is not a number"},
	{"unknown file", CSV_HEAD "a.jpg,,,,,cat,\nnope.jpg,1,2,3,4,cat,\n", 3,
	 "file 'nope.jpg': no such image next to the file"},
	{"partial box", CSV_HEAD "a.jpg,1,,3,4,cat,\n", 2,
	 "x, y, w and h must all be given or all empty"},
	{"score", CSV_HEAD "a.jpg,1,2,3,4,cat,1.5\n", 2, "score: '1.5' is not a number from 0 to 1"},
	{"negative", CSV_HEAD "a.jpg,1,2,-3,4,cat,\n", 2, "w: negative size"},
	{"no label", CSV_HEAD "a.jpg,1,2,3,4,,\n", 2, "label: empty"},
	{"no file", CSV_HEAD ",1,2,3,4,cat,\n", 2, "file: empty"},
	{"unclosed", CSV_HEAD "a.jpg,,,,,cat,\na.jpg,1,2,3,4,\"cat,\n\n", 3,
	 "quoted field not closed"},
	{"after quote", CSV_HEAD "a.jpg,1,2,3,4,\"cat\"x,\n", 2,
	 "column 6: text after the closing quote"},
	{"after multiline", CSV_HEAD "a.jpg,,,,,\"two\nlines\",\na.jpg,,,,,cat,2\n", 4,
	 "score: '2'"},
	{"no size", CSV_HEAD "nosize.jpg,1,2,3,4,cat,\n", 2, "the image has no size"},
	{"not UTF-8", CSV_HEAD "a.jpg,,,,,cat,\na.jpg,,,,,caf\xe9,\n", 3, "not UTF-8"},
};

static void test_csv_errors(void)
{
	int calls = 0;
	for (size_t i = 0; i < sizeof csv_bad / sizeof csv_bad[0]; i++) {
		const struct bad_case *c = &csv_bad[i];
		struct anno_list out = {0};
		struct anno_import_error err;
		int rc = anno_import_csv(fx("bad.csv", c->text), resolve, &calls, &out, &err);
		check_fails(rc, &out, 0, &err, c->line, c->msg, c->name);
		anno_list_release(&out);
	}
	/* a row over the 1 MiB line limit, after good rows: nothing is kept */
	size_t n = (1 << 20) + 100, len = 0;
	char *big = malloc(n);
	len += (size_t)sprintf(big, CSV_HEAD "a.jpg,,,,,cat,\na.jpg,,,,,");
	memset(big + len, 'a', n - len);
	struct anno_list lo = {0};
	struct anno_import_error le;
	int rc = anno_import_csv(fx_len("big.csv", big, n), resolve, &calls, &lo, &le);
	check_fails(rc, &lo, 0, &le, 3, "line longer than", "long CSV line");
	anno_list_release(&lo);
	free(big);
	/* whole-image rows only: no size needed */
	struct anno_list out = {0};
	struct anno_import_error err;
	CHECK_INT(anno_import_csv(fx("w.csv", CSV_HEAD "nosize.jpg,,,,,cat,\n"), resolve, &calls,
				  &out, &err),
		  0, "csv whole image without size");
	CHECK_INT(out.count, 1, "csv whole image count");
	anno_list_release(&out);
}

int main(void)
{
	if (!fixture_dir_make())
		return 1;
	UNIT_RUN(test_coco);
	UNIT_RUN(test_coco_errors);
	UNIT_RUN(test_csv);
	UNIT_RUN(test_csv_errors);
	fixture_dir_remove();
	return unit_report("importers_tags");
}
