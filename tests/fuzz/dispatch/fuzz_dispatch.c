/*
 * libFuzzer target: the generated server dispatch of every interface of
 * schema/capos.capnp (`*_dispatch_any`), with stub servers generated from
 * the same header (gen_stubs.py) that read every field of their params. So
 * each interface's generated params decoding runs on fuzzer-made messages,
 * as a service's serve loop would run it on a caller's.
 * Input: [interface] [method] [caps] [answer] then the params message.
 *   interface: an index into the table (or, past it, an id nobody serves);
 *   method: one of the interface's, one past them, or any 16-bit value;
 *   caps: how many capabilities travel with the params (0-4);
 *   answer: bit 0 the stub fails the call; bits 1-3 size the result buffer.
 * Checked: a call that succeeds leaves a valid result message of at most
 * the buffer with at most the result caps allowed; one that fails leaves
 * no result; the error is one of the codec's.
 */
#include <stdlib.h>
#include <string.h>
#include "capnp.h"
#include "dispatch_stubs.h"

volatile uint64_t stub_sink;
static int answer;

int stub_answer(void *self)
{
    return answer;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    const struct stub_iface *f = &stub_ifaces[data[0] % stub_iface_count];
    uint64_t iface = data[0] >= 250 ? 0x8000000000000001ull : f->id;
    uint16_t method = data[1] < 240 ? (uint16_t)(data[1] % (f->methods + 1)) : (uint16_t)(data[1] << 8 | data[2]);
    uint32_t ncaps = data[2] % 5;
    answer = data[3] & 1 ? CAPNP_ERR_INVALID : CAPNP_OK;
    static const size_t result_sizes[8] = { 0, 8, 16, 24, 64, 256, 1024, 4096 };
    size_t rcap = result_sizes[(data[3] >> 1) & 7];
    data += 4;
    size -= 4;

    uint8_t *params = malloc(size ? size : 1);     /* exactly the bytes: a read past them is an ASan error */
    memcpy(params, data, size);
    static uint64_t result[4096 / 8];
    uint32_t caps[4] = { 11, 12, 13, 14 }, rcaps[4];
    capnp_server_call c = {
        .interface_id = iface, .method_id = method, .params = params, .params_len = size,
        .param_caps = caps, .param_ncaps = ncaps, .result = result, .result_cap = rcap,
        .result_caps = rcaps, .result_caps_cap = 4,
    };
    int e = f->dispatch_any(f->srv, 0, &c);
    if (e == CAPNP_OK) {
        capnp_msg m;
        if (c.result_len > rcap || c.result_ncaps > 4 || capnp_msg_init(&m, result, c.result_len) != CAPNP_OK ||
            capnp_msg_validate(&m) != CAPNP_OK)
            abort();
    } else if (c.result_len != 0 || e < 0 || e > CAPNP_ERR_TRANSPORT) {
        abort();
    }
    free(params);
    return 0;
}
