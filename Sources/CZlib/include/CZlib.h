#ifndef CZLIB_H
#define CZLIB_H

#include <zlib.h>

// deflateInit2 and inflateInit2 are macros (they pass the library version and
// the struct size), which Swift cannot import; these functions wrap them.
int czlib_deflate_init(z_stream *stream, int level, int window_bits, int mem_level);
int czlib_inflate_init(z_stream *stream, int window_bits);

#endif
