/* How `searchlite train` splits its data (docs/TRAINING.md "Splits"):
 * always by image, never by caption, so no caption of a held-out image is
 * ever trained on; and each image's captions found through a per-image
 * list. Internal. */
#ifndef SL_API_TRAIN_SPLIT_H
#define SL_API_TRAIN_SPLIT_H

#include "core/core.h"

#include <stddef.h>
#include <stdint.h>

/* The known-word captions of each image, in caption order:
 * captions of image i are list[first[i] .. first[i + 1]). */
typedef struct sl_image_captions {
    size_t n_images;
    uint32_t *first; /* (n_images + 1) */
    uint32_t *list;  /* (captions with a known word) */
} sl_image_captions;

/* Errors: SL_ERR_ARG (a caption's image out of range), SL_ERR_NOMEM. */
sl_status sl_image_captions_build(const uint32_t *caption_image, const uint8_t *caption_known, size_t n_captions,
                                  size_t n_images, sl_image_captions *out);
void sl_image_captions_free(sl_image_captions *c);

/* Shuffles v[0..n) in place (Fisher-Yates), drawing from *state
 * (SplitMix64), which it advances. */
void sl_shuffle_u32(uint32_t *v, size_t n, uint64_t *state);

/* A permutation of 0..n-1 drawn from seed (sl_shuffle_u32). */
void sl_shuffle_indices(uint32_t *idx, size_t n, uint64_t seed);

/* Image i goes to fold fold_of[i] in 0..k-1: the images in a seeded random
 * order, dealt round-robin, so fold sizes differ by one at most (counting
 * every image; the trainer then leaves out images without a known-word
 * caption, so its folds may differ a little more). */
sl_status sl_split_folds(size_t n_images, int k, uint64_t seed, uint8_t *fold_of); /* SL_ERR_NOMEM */

/* Validation images at most: past a few thousand images the recall
 * estimate is precise enough, and every epoch ranks every validation
 * caption against every validation image. */
#define SL_TRAIN_MAX_VAL_IMAGES 5000

/* Splits the images imgs[0..n) into a validation part of round(frac * n)
 * images (at least 1, at most n - 2 and SL_TRAIN_MAX_VAL_IMAGES) and the
 * rest, both in a seeded random order: val receives n_val indices, train
 * n - n_val. */
void sl_split_holdout(const uint32_t *imgs, size_t n, float frac, uint64_t seed, uint32_t *train, uint32_t *val,
                      size_t *n_val);

#endif
