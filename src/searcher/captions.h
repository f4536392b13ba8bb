/* COCO captions files (images[] with id, file_name, optional flickr_url /
 * coco_url / width / height; annotations[] with image_id and caption), the
 * format `searchlite eval` and `searchlite train` read. */
#ifndef SL_SEARCHER_CAPTIONS_H
#define SL_SEARCHER_CAPTIONS_H

#include "core/core.h"

#include <stddef.h>
#include <stdint.h>

#define SL_CAPTIONS_MAX_BYTES ((size_t)512 << 20)

typedef struct sl_caption_image {
    int64_t id;
    char *file_name;  /* a plain name: no '/', not "." or ".." */
    char *flickr_url; /* NULL when absent */
    char *coco_url;   /* NULL when absent */
} sl_caption_image;

typedef struct sl_captions {
    sl_caption_image *images;
    size_t n_images;
    char **captions;       /* (n_captions) UTF-8 text */
    uint32_t *caption_img; /* (n_captions) index into images[] */
    size_t n_captions;
} sl_captions;

/* Parses a captions file. Refuses (SL_ERR_CORRUPT, message naming the entry)
 * malformed JSON, missing or mistyped fields, duplicate image ids, a file
 * name with a path separator, and a caption whose image_id is unknown.
 * Errors also: SL_ERR_IO, SL_ERR_LIMIT (file above 512 MiB), SL_ERR_NOMEM. */
sl_status sl_captions_load(const char *path, sl_captions *out);
sl_status sl_captions_parse(const char *json, size_t len, sl_captions *out);
void sl_captions_free(sl_captions *c);

#endif
