/* The public library handle (include/searchlite.h "Libraries") is a thin
 * wrapper around the internal catalog; code in src/api reaches the catalog
 * through it. */
#ifndef SL_API_LIBRARY_INTERNAL_H
#define SL_API_LIBRARY_INTERNAL_H

#include "catalog/catalog.h"

struct sl_library {
    sl_catalog *cat; /* owned; one thread at a time, as the handle */
    char *path;      /* as given to sl_library_open, for messages */
};

#endif
