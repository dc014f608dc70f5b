/*
 * sl_reflection: gRPC server reflection, grpc.reflection.v1.ServerReflection
 * and grpc.reflection.v1alpha.ServerReflection (the same messages on the
 * wire), so grpcurl, grpcui, Postman and Evans can list and call a
 * Shelfline service without its .proto files.
 *
 * Answers come from a FileDescriptorSet (protoc --descriptor_set_out
 * --include_imports).  The suite's own set -- every proto it serves, with
 * imports -- is embedded into the library at build time
 * (sl_reflection_suite_set).  It is indexed once, at creation: files by
 * name with their dependencies, and every symbol a client may ask for
 * (packages' messages, nested ones, fields, oneofs, enums and their values,
 * services, methods, extensions) by full name.
 *
 *   list_services                 the services added to the server (health
 *                                 and reflection included), asked at call
 *                                 time
 *   file_by_filename              that file, then its transitive
 *   file_containing_symbol        dependencies not yet sent on the stream
 *   file_containing_extension     (grpc-go's server does the same)
 *   all_extension_numbers_of_type the numbers of the type's extensions
 *
 * An unknown file, symbol or type is an error_response (NOT_FOUND, with a
 * message) and the stream goes on; a request with no question ends the
 * stream with INVALID_ARGUMENT.  Reflection runs through the server's
 * dispatcher like any service: with an interceptor (sl_service's bearer
 * token) it needs what every other method needs.
 */
#ifndef SL_REFLECTION_H
#define SL_REFLECTION_H

#include <stddef.h>

#include "sl_server.h"
#include "sl_status.h"

typedef struct sl_reflection sl_reflection;

/* The suite's descriptor set embedded at build time (static memory);
 * *len gets its size. */
const void *sl_reflection_suite_set(size_t *len);

/* Indexes a serialized FileDescriptorSet.  set is not copied: it must
 * outlive *out (the embedded set always does).  The caller owns *out
 * (sl_reflection_destroy).  INVALID_ARGUMENT when the set does not decode
 * or a file names a dependency the set lacks; RESOURCE_EXHAUSTED when out
 * of memory. */
sl_status sl_reflection_create(const void *set, size_t len, sl_reflection **out, sl_err *err);

/* Adds both reflection services to s (before sl_server_start); r must
 * outlive the server.  Logs a warning for each service already added
 * whose proto is not in the set (clients could list it but not describe
 * it).  Fails as sl_server_add_service does. */
sl_status sl_reflection_add(sl_server *s, sl_reflection *r, sl_err *err);

void sl_reflection_destroy(sl_reflection *r);

#endif
