/* Every image and caption of a COCO captions set, embedded in parallel
 * (`searchlite eval` embeds them; `searchlite train` extracts their
 * features). The caller says what one image or caption becomes through a
 * callback writing its own row, so the thread count changes the timing
 * only, never the results.
 *
 * Images run on plain worker threads while the calling thread reports
 * progress: the progress callback always runs on the caller's thread, one
 * call at a time, and can cancel. Captions run on an sl_pool. */
#ifndef SL_API_CAPTION_SET_H
#define SL_API_CAPTION_SET_H

#include "searcher/captions.h"

#define SL_CAPTION_SET_MAX_THREADS 256

/* Fills image i's row from the file at `path`. Runs on a worker thread;
 * must be thread-safe across different i. */
typedef sl_status (*sl_image_row_fn)(void *user, const char *path, size_t i);
/* Fills caption a's row. SL_ERR_NOT_FOUND (no known word) is counted, not
 * an error; the callback leaves a usable row for it (e.g. zeros). */
typedef sl_status (*sl_caption_row_fn)(void *user, const char *text, size_t a);

/* Runs fn on every image (images_dir + "/" + file_name) with n_threads
 * workers (1..SL_CAPTION_SET_MAX_THREADS). The first failure by image
 * order is returned with its message (naming the file), whatever the
 * thread count. progress (may be NULL) gets every count 1..n_images once,
 * in order; nonzero cancels (SL_ERR_STATE "cancelled"). `what` prefixes
 * messages ("eval", "train"). */
sl_status sl_caption_set_images(const sl_captions *caps, const char *images_dir, int n_threads, sl_image_row_fn fn,
                                void *user, int (*progress)(void *, size_t, size_t), void *progress_user,
                                const char *what);

/* Runs fn on every caption over `pool` (may be NULL); *unknown counts the
 * captions without a known word. Another failure is returned with its
 * message (the caption is run again on this thread to get it). */
sl_status sl_caption_set_texts(const sl_captions *caps, sl_pool *pool, sl_caption_row_fn fn, void *user,
                               size_t *unknown, const char *what);

#endif
