#include "authority.h"

void authority_line(capos_ProcessCaps_reader p, bool with_pid, char line[AUTHORITY_LINE_MAX])
{
    capnp_text n = capos_ProcessCaps_get_name(p);
    capnp_list ifs = capos_ProcessCaps_get_interfaces(p);
    int len = fmt_snprintf(line, AUTHORITY_LINE_MAX, "AUTHORITY %.*s", (int)n.len, n.str);
    if (with_pid)
        len += fmt_snprintf(line + len, AUTHORITY_LINE_MAX - (size_t)len, " pid=%u", capos_ProcessCaps_get_pid(p));
    len += fmt_snprintf(line + len, AUTHORITY_LINE_MAX - (size_t)len, " held=%u:", capos_ProcessCaps_get_held(p));
    /* room for the longest interface name: a line never ends mid-name */
    for (uint32_t k = 0; k < ifs.count && len < AUTHORITY_LINE_MAX - 40; k++)
        len += fmt_snprintf(line + len, AUTHORITY_LINE_MAX - (size_t)len, " %s",
                            capos_interface_name(capnp_list_u64(ifs, k)));
}
