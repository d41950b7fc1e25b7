/*
 * htj2k_encode.cpp: the thin C++ shim over OpenJPH behind htj2k_encode.h. The only C++ in
 * iiifd: it turns OpenJPH's exceptions into error strings and its streams into a stdio FILE.
 */
#include "image/htj2k_encode.h"

#include <cstdio>
#include <cstring>
#include <stdio.h>
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

/*
 * OpenJPH 0.9 reports an error by printing it to its error stream and throwing
 * std::runtime_error("ojph error"); its configure_error() hook is not used by its own macros.
 * So the error stream is a stdio stream (fopencookie) that appends to the calling thread's
 * buffer, which is cleared before each call into OpenJPH and read when it throws. Warnings and
 * information go to a stream that discards them (by default they go to stderr and stdout).
 */
thread_local char last_error[256];

ssize_t error_write(void *, const char *buf, size_t n)
{
	size_t have = strlen(last_error), room = sizeof last_error - 1 - have;
	size_t take = n < room ? n : room;
	memcpy(last_error + have, buf, take);
	last_error[have + take] = '\0';
	return (ssize_t)n;
}

ssize_t discard_write(void *, const char *, size_t n)
{
	return (ssize_t)n;
}

FILE *unbuffered_stream(cookie_write_function_t *write)
{
	cookie_io_functions_t io = {};
	io.write = write;
	FILE *f = fopencookie(nullptr, "w", io);
	if (f)
		setvbuf(f, nullptr, _IONBF, 0);
	return f;
}

void configure_messages()
{
	static std::once_flag once;
	std::call_once(once, [] {
		FILE *errors = unbuffered_stream(error_write), *quiet = unbuffered_stream(discard_write);
		if (errors)
			ojph::set_error_stream(errors);
		if (quiet) {
			ojph::set_warning_stream(quiet);
			ojph::set_info_stream(quiet);
		}
	});
	last_error[0] = '\0';
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

/* The reason OpenJPH printed for its last exception (its first line), else what(). */
void set_error(char *err, size_t errlen, const char *what)
{
	char reason[sizeof last_error];
	snprintf(reason, sizeof reason, "%s", last_error[0] ? last_error : what);
	reason[strcspn(reason, "\n")] = '\0';
	snprintf(err, errlen, "HTJ2K encoder: %s", reason);
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
	last_error[0] = '\0';
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
	last_error[0] = '\0';
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
