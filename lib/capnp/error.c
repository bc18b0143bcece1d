/* Names of the stable error codes, for logs and test output. */
#include "capnp.h"

const char *capnp_strerror(int err)
{
    switch (err) {
    case CAPNP_OK: return "ok";
    case CAPNP_ERR_SEGMENT_TABLE: return "bad segment table";
    case CAPNP_ERR_OUT_OF_BOUNDS: return "pointer out of bounds";
    case CAPNP_ERR_LIST_TOO_LONG: return "list too long";
    case CAPNP_ERR_NESTING: return "nesting limit exceeded";
    case CAPNP_ERR_TRAVERSAL: return "traversal limit exceeded";
    case CAPNP_ERR_POINTER_KIND: return "wrong pointer kind";
    case CAPNP_ERR_FAR_POINTER: return "bad far pointer";
    case CAPNP_ERR_ELEMENT_SIZE: return "wrong list element size";
    case CAPNP_ERR_CAP_INDEX: return "capability index out of range";
    case CAPNP_ERR_TEXT: return "text not NUL-terminated";
    case CAPNP_ERR_INDEX: return "list index out of range";
    case CAPNP_ERR_NO_SPACE: return "buffer full";
    case CAPNP_ERR_INVALID: return "invalid argument";
    case CAPNP_ERR_UNKNOWN_INTERFACE: return "unknown interface";
    case CAPNP_ERR_UNKNOWN_METHOD: return "unknown method";
    case CAPNP_ERR_UNIMPLEMENTED: return "method not implemented";
    case CAPNP_ERR_TRANSPORT: return "transport failure";
    }
    return "unknown";
}
