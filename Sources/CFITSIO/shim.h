#ifndef ASTROPILE_CFITSIO_SHIM_H
#define ASTROPILE_CFITSIO_SHIM_H
#include <fitsio.h>
#endif
