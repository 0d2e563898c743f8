#ifndef ASTROPILE_PNG_SHIM_H
#define ASTROPILE_PNG_SHIM_H
#include <png.h>
#endif
