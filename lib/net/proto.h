/*
 * Protocol numbers, field layouts and codes, each named after its RFC.
 * Nothing in lib/net uses a bare protocol number.
 */
#ifndef NET_PROTO_H
#define NET_PROTO_H

/* Ethernet II (IEEE 802.3, RFC 894). */
#define ETH_ADDR_LEN        6
#define ETH_HDR             14
#define ETH_MIN_FRAME       60          /* without FCS */
#define ETH_TYPE_IP         0x0800
#define ETH_TYPE_ARP        0x0806
#define ETH_ADDR_GROUP_BIT  0x01        /* first octet: multicast/broadcast */

/* ARP (RFC 826). */
#define ARP_LEN             28          /* Ethernet/IPv4 packet */
#define ARP_HTYPE_ETHER     1
#define ARP_PLEN_IP         4
#define ARP_OP_REQUEST      1
#define ARP_OP_REPLY        2

/* IPv4 (RFC 791). */
#define IP_VERSION_4        4
#define IP_HDR              20          /* without options */
#define IP_IHL_MASK         0x0f
#define IP_IHL_UNIT         4           /* header length counts 32-bit words */
#define IP_TTL_DEFAULT      64
#define IP_FLAG_DF          0x4000
#define IP_FLAG_MF          0x2000
#define IP_FRAG_OFF_MASK    0x1fff
#define IP_FRAG_UNIT        8           /* fragment offsets count 8-byte blocks */
#define IP_PROTO_ICMP       1
#define IP_PROTO_TCP        6
#define IP_PROTO_UDP        17
#define IP_ADDR_BCAST       0xffffffffu             /* limited broadcast */
#define IP_NET_THIS(a)      (((a) >> 24) == 0)      /* 0/8, "this network" (RFC 1122 3.2.1.3) */
#define IP_NET_LOOPBACK(a)  (((a) >> 24) == 127)    /* 127/8 */
#define IP_NET_MULTICAST(a) (((a) >> 28) == 0xe)    /* 224/4 */
#define IP_NET_RESERVED(a)  (((a) >> 28) == 0xf)    /* 240/4, class E (RFC 1112 4) */

/* IPv4 options (RFC 791 3.1, IANA "IP Option Numbers"). */
#define IP_OPT_EOL          0
#define IP_OPT_NOP          1
#define IP_OPT_RR           7           /* record route */
#define IP_OPT_TS           68          /* timestamp */
#define IP_OPT_LSRR         131         /* loose source route */
#define IP_OPT_SSRR         137         /* strict source route */
#define IP_OPT_RA           148         /* router alert (RFC 2113) */

/* ICMP (RFC 792). */
#define ICMP_HDR            8
#define ICMP_ECHO_REPLY     0
#define ICMP_DEST_UNREACH   3
#define ICMP_ECHO_REQUEST   8
#define ICMP_UNREACH_NET    0
#define ICMP_UNREACH_HOST   1
#define ICMP_UNREACH_PROTO  2
#define ICMP_UNREACH_PORT   3
#define ICMP_UNREACH_NEEDFRAG 4
#define ICMP_UNREACH_SRCFAIL  5
#define ICMP_UNREACH_NET_PROHIB  9      /* RFC 1122 3.2.2.1 */
#define ICMP_UNREACH_HOST_PROHIB 10
#define ICMP_UNREACH_ADMIN  13          /* RFC 1812 5.2.7.1 */
#define ICMP_ERR_QUOTE      8           /* payload bytes of the offending datagram quoted */

/* UDP (RFC 768). */
#define UDP_HDR             8
#define UDP_CSUM_NONE       0           /* IPv4 only */

/* TCP (RFC 9293 3.1). */
#define TCP_HDR             20
#define TCP_DOFF_SHIFT      4           /* data offset: high nibble of byte 12, 32-bit words */
#define TCP_DOFF_UNIT       4
#define TCP_FLAGS_MASK      0x3f
#define TCP_FIN             0x01
#define TCP_SYN             0x02
#define TCP_RST             0x04
#define TCP_PSH             0x08
#define TCP_ACK             0x10
#define TCP_URG             0x20
#define TCP_MSS_DEFAULT     536         /* RFC 9293 3.7.1 */
#define TCP_WSCALE_MAX      14          /* RFC 7323 2.3 */
#define TCP_WIN_MAX         0xffff      /* the 16-bit window field */
#define NET_EPHEMERAL_LO    49152       /* dynamic ports (RFC 6335 6) */
#define NET_EPHEMERAL_N     16384

/* TCP options (RFC 9293 3.2, RFC 7323, RFC 2018). */
#define TCP_OPT_EOL         0
#define TCP_OPT_NOP         1
#define TCP_OPT_MSS         2
#define TCP_OPT_WSCALE      3
#define TCP_OPT_SACK_PERM   4
#define TCP_OPT_SACK        5
#define TCP_OPT_TIMESTAMP   8
#define TCP_OPTLEN_MSS      4
#define TCP_OPTLEN_WSCALE   3
#define TCP_OPTLEN_SACK_PERM 2
#define TCP_OPTLEN_SACK_BLOCK 8         /* each left/right edge pair */
#define TCP_OPT_SACK_MAX_BLOCKS 4       /* without timestamps */
#define TCP_OPT_SACK_MAX_BLOCKS_TS 3    /* with them */
#define TCP_OPTLEN_TIMESTAMP 10         /* RFC 7323 3.2: kind, length, TSval, TSecr */
#define TCP_OPTSPACE_TIMESTAMP 12       /* aligned with two NOPs */

/* DHCP (RFC 2131) and BOOTP. */
#define DHCP_SERVER_PORT    67
#define DHCP_CLIENT_PORT    68
#define BOOTP_REQUEST       1
#define BOOTP_REPLY         2
#define BOOTP_HTYPE_ETHER   1
#define BOOTP_FIXED         236         /* op .. file, before the magic cookie */
#define BOOTP_CHADDR_LEN    16
#define BOOTP_SNAME_LEN     64
#define BOOTP_FILE_LEN      128
#define BOOTP_FLAG_BROADCAST 0x8000
#define BOOTP_MIN_LEN       300         /* some servers insist */
#define DHCP_MAGIC          0x63825363u

/* DHCP options (RFC 2132). */
#define DHCP_OPT_PAD        0
#define DHCP_OPT_SUBNET_MASK 1
#define DHCP_OPT_ROUTER     3
#define DHCP_OPT_DNS        6
#define DHCP_OPT_REQUESTED_IP 50
#define DHCP_OPT_LEASE_TIME 51
#define DHCP_OPT_MSG_TYPE   53
#define DHCP_OPT_SERVER_ID  54
#define DHCP_OPT_PARAM_LIST 55
#define DHCP_OPT_RENEWAL_T1 58
#define DHCP_OPT_REBIND_T2  59
#define DHCP_OPT_CLIENT_ID  61
#define DHCP_OPT_END        255

/* DHCP message types (RFC 2132 9.6). */
enum dhcp_msg {
    DHCP_DISCOVER = 1, DHCP_OFFER = 2, DHCP_REQUEST = 3, DHCP_DECLINE = 4,
    DHCP_ACK = 5, DHCP_NAK = 6, DHCP_RELEASE = 7, DHCP_INFORM = 8,
};

#endif
