/* The parts of sl_library_index (index.c) that have one job each: walking
 * the folders (walk.c), turning a captions file into per-file metadata
 * (index_meta.c) and embedding one image file (index_embed.c). */
#ifndef SL_API_INDEX_INTERNAL_H
#define SL_API_INDEX_INTERNAL_H

#include "core/core.h"
#include "searcher/captions.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- walk.c ---------------------------------------------------------------- */

typedef struct sl_walk_file {
    char *path;       /* absolute, owned */
    int64_t size;     /* bytes, from the walk's fstatat */
    int64_t mtime_ns; /* ns since the epoch */
} sl_walk_file;

typedef struct sl_walk {
    sl_walk_file *files; /* (n) sorted by path (strcmp), no duplicates */
    size_t n, cap;
    /* A directory (or an entry) could not be read: the list may miss files
     * that still exist, so the caller must not forget items. */
    bool incomplete;
} sl_walk;

/* Called after each folder with the number of files found so far (the
 * callee throttles); a nonzero return stops the walk (cancellation). */
typedef int (*sl_walk_progress_fn)(void *user, size_t n_found);

/* True for names ending in .jpg .jpeg .png .bmp, any case. */
bool sl_walk_is_image_name(const char *name);

/* Lists the image files under `roots` (absolute, normalized paths of
 * existing folders or files). Folders are walked recursively: names
 * starting with '.', symbolic links and anything but regular files and
 * folders are skipped, as are files whose name is not an image name. A
 * root that is a regular file is listed whatever its name (it was asked
 * for). Unreadable folders are logged at SL_LOG_WARN and set
 * out->incomplete. *cancelled is set when `progress` asked to stop (the
 * list is then partial). Errors: SL_ERR_NOMEM. */
sl_status sl_walk_roots(const char *const *roots, size_t n_roots, sl_walk_progress_fn progress,
                        void *user, sl_walk *out, bool *cancelled);
void sl_walk_free(sl_walk *w);

/* ---- index_meta.c ------------------------------------------------------------ */

/* Captions indexed by file name. */
typedef struct sl_index_meta sl_index_meta;

/* Loads a COCO captions file (sl_captions_load; its errors). */
sl_status sl_index_meta_load(const char *path, sl_index_meta **out);
void sl_index_meta_free(sl_index_meta *m);

/* The metadata JSON of the image whose file_name equals the basename of
 * `path`: {"captions": [...], "flickr_url": ..., "coco_url": ...,
 * "coco_id": N} (absent urls omitted). *json is NULL when no image has that
 * name; otherwise a malloc'd string to free with free(). When several
 * images share a name the first in the file wins. Errors: SL_ERR_NOMEM. */
sl_status sl_index_meta_json(const sl_index_meta *m, const char *path, char **json);

/* ---- index_embed.c ------------------------------------------------------------ */

typedef enum sl_embed_outcome {
    SL_EMBED_DONE = 0,   /* vec, hash, width, height are set */
    SL_EMBED_SAME = 1,   /* the content hash equals expect_hash: nothing embedded */
    SL_EMBED_FAILED = 2  /* error holds the reason */
} sl_embed_outcome;

/* One file to embed, and what came of it. */
typedef struct sl_embed_job {
    const char *path;           /* borrowed */
    bool check_hash;            /* compare with expect_hash before decoding */
    uint8_t expect_hash[SL_SHA256_SIZE];
    /* results */
    sl_embed_outcome outcome;
    float *vec;                 /* (dim) output, owned by the caller */
    uint8_t hash[SL_SHA256_SIZE];
    uint32_t width, height;
    char error[512];            /* message of the failure, "" otherwise */
} sl_embed_job;

/* Reads the file once, hashes it (SHA-256), decodes it from memory (EXIF
 * orientation applied) and embeds it. Thread-safe; failures are recorded in
 * the job (the thread's sl_last_error is captured there), never returned. */
void sl_embed_job_run(const sl_model *model, sl_embed_job *job);

#endif
