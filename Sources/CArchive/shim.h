#ifndef ASTROPILE_ARCHIVE_SHIM_H
#define ASTROPILE_ARCHIVE_SHIM_H
// libarchive (Debian libarchive-dev): streaming reads of tar / tar.gz alert archives.
#include <archive.h>
#include <archive_entry.h>
#endif
