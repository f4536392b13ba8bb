/* Where per-user files live by default (XDG Base Directory specification). */
#include "core/core.h"

#include <stdio.h>
#include <stdlib.h>

sl_status sl_data_dir(char *buf, size_t size) {
    if (!buf || !size) return sl_fail(SL_ERR_ARG, "data dir: no buffer");
    buf[0] = '\0';
    /* The specification says a relative XDG_DATA_HOME is invalid and must be
     * ignored. */
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && xdg[0] == '/') n = snprintf(buf, size, "%s/searchlite", xdg);
    else if (home && home[0]) n = snprintf(buf, size, "%s/.local/share/searchlite", home);
    else return sl_fail(SL_ERR_NOT_FOUND, "data dir: neither XDG_DATA_HOME nor HOME is set");
    if (n < 0 || (size_t)n >= size) {
        buf[0] = '\0';
        return sl_fail(SL_ERR_LIMIT, "data dir: path longer than %zu bytes", size - 1);
    }
    return SL_OK;
}
