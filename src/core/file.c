/* Whole-file reads, read-only maps and crash-safe (atomic) writes. */

#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static sl_status open_regular(const char *path, int *fd_out, size_t *size_out) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return sl_fail(SL_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return sl_fail(SL_ERR_IO, "%s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return sl_fail(SL_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > (uint64_t)SIZE_MAX - 1) {
        close(fd);
        return sl_fail(SL_ERR_LIMIT, "%s: file too large", path);
    }
    *fd_out = fd;
    *size_out = (size_t)st.st_size;
    return SL_OK;
}

sl_status sl_file_read(const char *path, size_t max_size, uint8_t **data,
                       size_t *size) {
    *data = NULL;
    *size = 0;
    if (!path) return sl_fail(SL_ERR_ARG, "file read: NULL path");
    int fd;
    size_t n;
    sl_status st = open_regular(path, &fd, &n);
    if (st) return st;
    if (n > max_size) {
        close(fd);
        return sl_fail(SL_ERR_LIMIT, "%s: %zu bytes exceeds the limit of %zu",
                       path, n, max_size);
    }
    uint8_t *buf = malloc(n + 1);
    if (!buf) {
        close(fd);
        return sl_fail(SL_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, n);
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return sl_fail(SL_ERR_IO, "%s: %s", path, strerror(e));
        }
        if (r == 0) break; /* the file shrank while we read it */
        got += (size_t)r;
    }
    close(fd);
    buf[got] = 0;
    *data = buf;
    *size = got;
    return SL_OK;
}

sl_status sl_mmap_open(const char *path, sl_mmap *map) {
    map->data = NULL;
    map->size = 0;
    int fd;
    size_t n;
    sl_status st = open_regular(path, &fd, &n);
    if (st) return st;
    if (n == 0) { /* mmap of zero bytes fails; an empty map is valid */
        close(fd);
        return SL_OK;
    }
    void *p = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED) return sl_fail(SL_ERR_IO, "%s: mmap: %s", path, strerror(e));
    map->data = p;
    map->size = n;
    return SL_OK;
}

void sl_mmap_close(sl_mmap *map) {
    if (map && map->data) munmap((void *)map->data, map->size);
    if (map) {
        map->data = NULL;
        map->size = 0;
    }
}

static sl_status fsync_dir_of(const char *path) {
    char *copy = strdup(path);
    if (!copy) return sl_fail(SL_ERR_NOMEM, "out of memory");
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (fd < 0) return SL_OK; /* some file systems refuse; the data is synced */
    fsync(fd);
    close(fd);
    return SL_OK;
}

/* The mode a plain open(path, O_CREAT, 0666) would give: mkstemp makes its
 * file 0600, which would leave a gallery page or a model unreadable to the
 * other users it is meant for. The umask is read from /proc (umask(2)
 * cannot read it without briefly changing it for every thread); elsewhere
 * the common 022 is assumed. An existing target keeps its own mode. */
static mode_t new_file_mode(const char *path) {
    struct stat st;
    if (stat(path, &st) == 0) return st.st_mode & 07777;
    mode_t mask = 022;
    FILE *f = fopen("/proc/self/status", "r");
    if (f) {
        char line[256];
        unsigned m;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "Umask: %o", &m) == 1) {
                mask = (mode_t)m;
                break;
            }
        fclose(f);
    }
    return 0666 & ~mask;
}

sl_status sl_file_write_atomic(const char *path, const void *data, size_t size) {
    if (!path || (!data && size)) return sl_fail(SL_ERR_ARG, "atomic write: bad arguments");
    size_t len = strlen(path);
    char *tmp = malloc(len + 16);
    if (!tmp) return sl_fail(SL_ERR_NOMEM, "out of memory");
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp.XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        sl_status st = sl_fail(SL_ERR_IO, "%s: cannot create temporary file: %s", path, strerror(errno));
        free(tmp);
        return st;
    }
    (void)fchmod(fd, new_file_mode(path)); /* best effort: 0600 is still a correct file */
    const uint8_t *p = data;
    size_t left = size;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) goto fail;
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0) goto fail;
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0) goto fail;
    free(tmp);
    return fsync_dir_of(path);
fail:;
    int e = errno;
    if (fd >= 0) close(fd);
    unlink(tmp);
    free(tmp);
    return sl_fail(SL_ERR_IO, "%s: write failed: %s", path, strerror(e));
}

double sl_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
