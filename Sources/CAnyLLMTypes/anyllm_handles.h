/* Build-internal: named pointer types for the opaque handles. Swift imports `anyllm_client *`
 * as an untyped OpaquePointer, and its header printer would then write `void *`; through these
 * typedefs the generated declarations keep the real handle types. tools/gen_header.py spells
 * them back as `anyllm_client *` / `anyllm_call *` in the public anyllm.h. */
#ifndef ANYLLM_HANDLES_H
#define ANYLLM_HANDLES_H
#include "../../include/anyllm_types.h"
typedef anyllm_client *anyllm_client_handle;
typedef anyllm_call *anyllm_call_handle;
#endif
