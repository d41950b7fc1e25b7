/*
 * htj2k_encode.cpp: the thin C++ shim over OpenJPH behind htj2k_encode.h. The only C++ in
 * iiifd: it turns OpenJPH's exceptions into error strings and its streams into a stdio FILE.
 */
#include "image/htj2k_encode.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <new>
#include <stdexcept>

#include <openjph/ojph_arch.h>
#include <openjph/ojph_codestream.h>
#include <openjph/ojph_file.h>
#include <openjph/ojph_mem.h>
#include <openjph/ojph_message.h>
#include <openjph/ojph_params.h>

namespace {

/* OpenJPH reports errors through a global handler that must not return: we throw its text. */
class error_to_exception : public ojph::message_error {
public:
	void operator()(int code, const char *file, int line, const char *fmt, ...) override
	{
		(void)code, (void)file, (void)line;
		char text[256];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(text, sizeof text, fmt, ap);
		va_end(ap);
		throw std::runtime_error(text);
	}
};

class quiet_warning : public ojph::message_warning {
public:
	void operator()(int, const char *, int, const char *, ...) override {}
};

class quiet_info : public ojph::message_info {
public:
	void operator()(int, const char *, int, const char *, ...) override {}
};

void configure_messages()
{
	static std::once_flag once;
	static error_to_exception errors;
	static quiet_warning warnings;
	static quiet_info infos;
	std::call_once(once, [] {
		ojph::configure_error(&errors);
		ojph::configure_warning(&warnings);
		ojph::configure_info(&infos);
	});
}

/* OpenJPH's output: a stdio stream, written from where it stands. */
class stdio_outfile : public ojph::outfile_base {
public:
	explicit stdio_outfile(FILE *f) : file(f) {}
	size_t write(const void *ptr, size_t size) override
	{
		return fwrite(ptr, 1, size, file);
	}
	ojph::si64 tell() override { return ftello(file); }
	void flush() override { fflush(file); }

private:
	FILE *file;
};

void set_error(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "HTJ2K encoder: %s", what);
}

} // namespace

struct htj2k_encoder {
	explicit htj2k_encoder(FILE *f) : out(f) {}
	ojph::codestream codestream;
	stdio_outfile out;
	ojph::line_buf *line = nullptr; /* the line OpenJPH wants next */
	ojph::ui32 next_component = 0;
	uint32_t width = 0;
	int bands = 0;
};

static void encoder_setup(htj2k_encoder *e, const htj2k_encode_params *p)
{
	ojph::param_siz siz = e->codestream.access_siz();
	siz.set_image_extent(ojph::point(p->width, p->height));
	siz.set_tile_size(ojph::size(p->tile, p->tile));
	siz.set_num_components((ojph::ui32)p->bands);
	for (int c = 0; c < p->bands; c++)
		siz.set_component((ojph::ui32)c, ojph::point(1, 1), 8, false);
	ojph::param_cod cod = e->codestream.access_cod();
	cod.set_num_decomposition((ojph::ui32)p->decompositions);
	cod.set_block_dims(64, 64);
	cod.set_progression_order("RPCL");
	cod.set_color_transform(p->bands == 3);
	cod.set_reversible(p->quant_step <= 0);
	if (p->quant_step > 0)
		e->codestream.access_qcd().set_irrev_quant(p->quant_step);
	e->codestream.set_planar(false);
	e->codestream.write_headers(&e->out);
	e->line = e->codestream.exchange(nullptr, e->next_component);
}

extern "C" struct htj2k_encoder *htj2k_encoder_new(const struct htj2k_encode_params *p,
						   FILE *out, char *err, size_t errlen)
{
	configure_messages();
	if (p->bands != 1 && p->bands != 3) {
		set_error(err, errlen, "only grey or RGB images");
		return nullptr;
	}
	htj2k_encoder *e = new (std::nothrow) htj2k_encoder(out);
	if (!e) {
		set_error(err, errlen, "out of memory");
		return nullptr;
	}
	e->width = p->width;
	e->bands = p->bands;
	try {
		encoder_setup(e, p);
		return e;
	} catch (const std::exception &x) {
		set_error(err, errlen, x.what());
	} catch (...) {
		set_error(err, errlen, "unknown failure");
	}
	delete e;
	return nullptr;
}

extern "C" int htj2k_encoder_push_row(struct htj2k_encoder *e, const uint8_t *row, char *err,
				      size_t errlen)
{
	try {
		for (int c = 0; c < e->bands; c++) {
			ojph::si32 *samples = e->line->i32;
			const uint8_t *from = row + e->next_component;
			for (uint32_t x = 0; x < e->width; x++, from += e->bands)
				samples[x] = *from;
			e->line = e->codestream.exchange(e->line, e->next_component);
		}
		return 0;
	} catch (const std::exception &x) {
		set_error(err, errlen, x.what());
	} catch (...) {
		set_error(err, errlen, "unknown failure");
	}
	return -1;
}

extern "C" int htj2k_encoder_finish(struct htj2k_encoder *e, char *err, size_t errlen)
{
	try {
		e->codestream.flush();
		return 0;
	} catch (const std::exception &x) {
		set_error(err, errlen, x.what());
	} catch (...) {
		set_error(err, errlen, "unknown failure");
	}
	return -1;
}

extern "C" void htj2k_encoder_free(struct htj2k_encoder *e)
{
	if (!e)
		return;
	try {
		e->codestream.close();
	} catch (...) {
	}
	delete e;
}
