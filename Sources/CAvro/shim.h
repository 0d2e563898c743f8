#ifndef ASTROPILE_AVRO_SHIM_H
#define ASTROPILE_AVRO_SHIM_H
// avro-c (Debian libavro-dev): AstroPile uses its schema parser and schema introspection only
// (see Formats/Avro/AvroSchema.swift for why datums are decoded by AstroPile itself).
#include <avro.h>

/// The type tag of a parsed schema node (avro_typeof is a macro Swift cannot call).
static inline int ap_avro_type(avro_schema_t schema) { return (int)avro_typeof(schema); }
#endif
