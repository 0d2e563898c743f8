/// The Arrow C Data Interface and C Stream Interface structures (the stable ABI that
/// every Arrow implementation shares; see the Arrow specification "The Arrow C data interface").
/// Header only: the `Table` module imports and exports batches through these structs.
#ifndef ASTROPILE_C_ARROW_DATA_H
#define ASTROPILE_C_ARROW_DATA_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
  const char* format;
  const char* name;
  const char* metadata;
  int64_t flags;
  int64_t n_children;
  struct ArrowSchema** children;
  struct ArrowSchema* dictionary;
  void (*release)(struct ArrowSchema*);
  void* private_data;
};

struct ArrowArray {
  int64_t length;
  int64_t null_count;
  int64_t offset;
  int64_t n_buffers;
  int64_t n_children;
  const void** buffers;
  struct ArrowArray** children;
  struct ArrowArray* dictionary;
  void (*release)(struct ArrowArray*);
  void* private_data;
};

#endif  // ARROW_C_DATA_INTERFACE

#ifndef ARROW_C_STREAM_INTERFACE
#define ARROW_C_STREAM_INTERFACE

struct ArrowArrayStream {
  int (*get_schema)(struct ArrowArrayStream*, struct ArrowSchema* out);
  int (*get_next)(struct ArrowArrayStream*, struct ArrowArray* out);
  const char* (*get_last_error)(struct ArrowArrayStream*);
  void (*release)(struct ArrowArrayStream*);
  void* private_data;
};

#endif  // ARROW_C_STREAM_INTERFACE

/// Swift cannot call function pointers stored in imported structs directly with all
/// toolchains; these helpers call them.
static inline void carrow_release_schema(struct ArrowSchema* s) { if (s && s->release) s->release(s); }
static inline void carrow_release_array(struct ArrowArray* a) { if (a && a->release) a->release(a); }
static inline int carrow_stream_get_schema(struct ArrowArrayStream* s, struct ArrowSchema* out) { return s->get_schema(s, out); }
static inline int carrow_stream_get_next(struct ArrowArrayStream* s, struct ArrowArray* out) { return s->get_next(s, out); }
static inline const char* carrow_stream_last_error(struct ArrowArrayStream* s) { return s->get_last_error(s); }
static inline void carrow_release_stream(struct ArrowArrayStream* s) { if (s && s->release) s->release(s); }

#ifdef __cplusplus
}
#endif

#endif
