#ifndef ASTROPILE_ZLIB_SHIM_H
#define ASTROPILE_ZLIB_SHIM_H
#include <zlib.h>
#endif
