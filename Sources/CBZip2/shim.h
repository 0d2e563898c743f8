#ifndef ASTROPILE_BZIP2_SHIM_H
#define ASTROPILE_BZIP2_SHIM_H
#include <bzlib.h>
#endif
