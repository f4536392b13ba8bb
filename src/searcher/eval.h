/* Retrieval metrics over embedding matrices: text->image and image->text
 * Recall@1/5/10 and median rank, as `searchlite eval` reports them.
 *
 * Ranks are deterministic: rank = 1 + the number of candidates scoring
 * strictly higher + the number of equal scores at a lower candidate index
 * (the search's own tie-break). */
#ifndef SL_SEARCHER_EVAL_H
#define SL_SEARCHER_EVAL_H

#include "core/core.h"

/* sl_recall is public (include/searchlite.h). */

/* img (n_img, dim) and cap (n_cap, dim) row-major embeddings; cap_img[a] is
 * the image of caption a. Text->image: each caption ranks all images.
 * Image->text: each image's best-ranked caption among all captions
 * (images without captions are skipped). pool may be NULL.
 * Errors: SL_ERR_ARG, SL_ERR_NOMEM. */
sl_status sl_eval_retrieval(const float *img, size_t n_img, const float *cap, size_t n_cap,
                            const uint32_t *cap_img, size_t dim, sl_pool *pool, sl_recall *t2i,
                            sl_recall *i2t);

/* Recall@1/5/10 and median rank of ranks[0..n) (1 = first; 0 = no query,
 * skipped). Sorts ranks in place. */
void sl_eval_summarize(uint32_t *ranks, size_t n, sl_recall *out);

#endif
