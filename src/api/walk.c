/* Listing the image files under the roots of an index run. Iterative (a
 * stack of folder paths, one directory handle open at a time) so that deep
 * trees need neither deep recursion nor one file descriptor per level.
 * The list is sorted at the end, so a run's order never depends on the
 * order readdir returns. */
#include "api/index_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

bool sl_walk_is_image_name(const char *name) {
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name) return false;
    static const char *const exts[] = {"jpg", "jpeg", "png", "bmp"};
    for (size_t i = 0; i < SL_ARRAY_LEN(exts); i++)
        if (strcasecmp(dot + 1, exts[i]) == 0) return true;
    return false;
}

void sl_walk_free(sl_walk *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n; i++) free(w->files[i].path);
    free(w->files);
    memset(w, 0, sizeof *w);
}

static int64_t mtime_ns(const struct stat *sb) {
    /* int64 nanoseconds last until the year 2262; clamp rather than wrap */
    const int64_t max_s = INT64_MAX / 1000000000 - 1;
    int64_t s = (int64_t)sb->st_mtim.tv_sec;
    if (s > max_s) s = max_s;
    if (s < -max_s) s = -max_s;
    return s * 1000000000 + (int64_t)sb->st_mtim.tv_nsec;
}

/* dir + "/" + name in a new string (dir "/" gives "/name"). */
static char *join(const char *dir, const char *name) {
    size_t dl = strlen(dir), nl = strlen(name);
    bool slash = !(dl > 0 && dir[dl - 1] == '/');
    char *p = malloc(dl + slash + nl + 1);
    if (!p) return NULL;
    memcpy(p, dir, dl);
    if (slash) p[dl] = '/';
    memcpy(p + dl + slash, name, nl + 1);
    return p;
}

static sl_status add_file(sl_walk *w, char *path, const struct stat *sb) {
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 256;
        sl_walk_file *nf = cap <= SIZE_MAX / sizeof *nf ? realloc(w->files, cap * sizeof *nf) : NULL;
        if (!nf) {
            free(path);
            return sl_fail(SL_ERR_NOMEM, "index: listing %zu files", w->n);
        }
        w->files = nf;
        w->cap = cap;
    }
    w->files[w->n++] = (sl_walk_file){path, (int64_t)sb->st_size, mtime_ns(sb)};
    return SL_OK;
}

typedef struct dir_stack {
    char **paths;
    size_t n, cap;
} dir_stack;

static sl_status push_dir(dir_stack *s, char *path) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        char **np = cap <= SIZE_MAX / sizeof *np ? realloc(s->paths, cap * sizeof *np) : NULL;
        if (!np) {
            free(path);
            return sl_fail(SL_ERR_NOMEM, "index: walking folders");
        }
        s->paths = np;
        s->cap = cap;
    }
    s->paths[s->n++] = path;
    return SL_OK;
}

/* Reads one folder: image files go to the list, subfolders to the stack. */
static sl_status walk_dir(const char *dir, sl_walk *w, dir_stack *stack) {
    /* O_NOFOLLOW: the folder was seen as a folder, not a link, by fstatat;
     * if it was swapped for a symlink since, refuse rather than follow. */
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        int e = errno;
        if (fd >= 0) close(fd);
        sl_log(SL_LOG_WARN, "cannot read folder %s: %s (its files are kept in the library as they were)",
               dir, strerror(e));
        w->incomplete = true;
        return SL_OK;
    }
    sl_status st = SL_OK;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno != 0) {
                sl_log(SL_LOG_WARN, "cannot list folder %s completely: %s", dir, strerror(errno));
                w->incomplete = true;
            }
            break;
        }
        const char *name = de->d_name;
        if (name[0] == '.') continue; /* hidden, and "." and ".." */
        /* d_type, when the file system fills it in, saves a stat for the
         * many entries that cannot be images */
        if (de->d_type == DT_LNK) continue;
        if (de->d_type == DT_REG && !sl_walk_is_image_name(name)) continue;
        struct stat sb;
        if (fstatat(dirfd(d), name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) continue; /* deleted while we looked: gone */
            sl_log(SL_LOG_WARN, "cannot stat %s/%s: %s", dir, name, strerror(errno));
            w->incomplete = true;
            continue;
        }
        bool is_dir = S_ISDIR(sb.st_mode);
        if (!is_dir && !(S_ISREG(sb.st_mode) && sl_walk_is_image_name(name))) continue;
        char *path = join(dir, name);
        if (!path) {
            st = sl_fail(SL_ERR_NOMEM, "index: walking %s", dir);
            break;
        }
        st = is_dir ? push_dir(stack, path) : add_file(w, path, &sb);
        if (st != SL_OK) break;
    }
    closedir(d);
    return st;
}

static int cmp_file(const void *a, const void *b) {
    return strcmp(((const sl_walk_file *)a)->path, ((const sl_walk_file *)b)->path);
}

sl_status sl_walk_roots(const char *const *roots, size_t n_roots, sl_walk_progress_fn progress,
                        void *user, sl_walk *out, bool *cancelled) {
    memset(out, 0, sizeof *out);
    *cancelled = false;
    dir_stack stack = {0};
    sl_status st = SL_OK;
    for (size_t r = 0; r < n_roots && st == SL_OK && !*cancelled; r++) {
        struct stat sb;
        if (stat(roots[r], &sb) != 0) {
            /* checked by the caller; vanished since */
            sl_log(SL_LOG_WARN, "cannot read %s: %s", roots[r], strerror(errno));
            out->incomplete = true;
            continue;
        }
        char *path = strdup(roots[r]);
        if (!path) {
            st = sl_fail(SL_ERR_NOMEM, "index: walking %s", roots[r]);
            break;
        }
        if (S_ISREG(sb.st_mode)) {
            st = add_file(out, path, &sb);
            continue;
        }
        st = push_dir(&stack, path);
        while (st == SL_OK && stack.n > 0 && !*cancelled) {
            char *dir = stack.paths[--stack.n];
            st = walk_dir(dir, out, &stack);
            free(dir);
            if (st == SL_OK && progress && progress(user, out->n)) *cancelled = true;
        }
    }
    for (size_t i = 0; i < stack.n; i++) free(stack.paths[i]);
    free(stack.paths);
    if (st != SL_OK) {
        sl_walk_free(out);
        return st;
    }
    if (out->n > 1) qsort(out->files, out->n, sizeof *out->files, cmp_file);
    /* overlapping roots (a folder and its subfolder) list files twice */
    size_t k = 0;
    for (size_t i = 0; i < out->n; i++) {
        if (k > 0 && strcmp(out->files[k - 1].path, out->files[i].path) == 0) {
            free(out->files[i].path);
            continue;
        }
        out->files[k++] = out->files[i];
    }
    out->n = k;
    return SL_OK;
}
