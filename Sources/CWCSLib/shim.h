#ifndef ASTROPILE_WCSLIB_SHIM_H
#define ASTROPILE_WCSLIB_SHIM_H
#include <wcslib/wcs.h>
#include <wcslib/wcshdr.h>
#include <wcslib/wcsfix.h>
#include <wcslib/wcserr.h>

// wcslib's message tables are arrays of unknown size, which Swift cannot index: one lookup each.
static inline const char *ap_wcs_errmsg(int status) {
    return (status >= 0 && status <= WCSERR_BAD_WORLD_COORD) ? wcs_errmsg[status] : "unknown wcslib error";
}
static inline const char *ap_wcshdr_errmsg(int status) {
    return (status >= 0 && status <= 6) ? wcshdr_errmsg[status] : "unknown wcshdr error";
}
#endif
