/* SPDX-License-Identifier: MIT */
/* test_schema.c: the DeepFlow tables and the JSON key index. */

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/schema.h"

static const enum schema_family fams[SCHEMA_FAM_COUNT] = {
	SCHEMA_FAM_NETWORK, SCHEMA_FAM_NETWORK_MAP, SCHEMA_FAM_APPLICATION, SCHEMA_FAM_APPLICATION_MAP,
};

/* Every line of spec/json-keys-to-labels.md: family, Kafka JSON key, label
 * ("=name" = the __name__ of a metric, "@time" the sample timestamp,
 * "@ignored" not a label). */
static const struct {
	enum schema_family f;
	const char *key;
	const char *label;
} spec_keys[] = {
	{SCHEMA_FAM_NETWORK, "datasource", "datasource"},
	{SCHEMA_FAM_NETWORK, "time", "@time"},
	{SCHEMA_FAM_NETWORK, "packet_tx", "=packet_tx"},
	{SCHEMA_FAM_NETWORK, "packet_rx", "=packet_rx"},
	{SCHEMA_FAM_NETWORK, "byte_tx", "=byte_tx"},
	{SCHEMA_FAM_NETWORK, "byte_rx", "=byte_rx"},
	{SCHEMA_FAM_NETWORK, "l3_byte_tx", "=l3_byte_tx"},
	{SCHEMA_FAM_NETWORK, "l3_byte_rx", "=l3_byte_rx"},
	{SCHEMA_FAM_NETWORK, "l4_byte_tx", "=l4_byte_tx"},
	{SCHEMA_FAM_NETWORK, "l4_byte_rx", "=l4_byte_rx"},
	{SCHEMA_FAM_NETWORK, "new_flow", "=new_flow"},
	{SCHEMA_FAM_NETWORK, "closed_flow", "=closed_flow"},
	{SCHEMA_FAM_NETWORK, "l7_request", "=l7_request"},
	{SCHEMA_FAM_NETWORK, "l7_response", "=l7_response"},
	{SCHEMA_FAM_NETWORK, "syn_count", "=syn_count"},
	{SCHEMA_FAM_NETWORK, "synack_count", "=synack_count"},
	{SCHEMA_FAM_NETWORK, "direction_score", "=direction_score"},
	{SCHEMA_FAM_NETWORK, "rtt_max", "=rtt_max"},
	{SCHEMA_FAM_NETWORK, "rtt_client_max", "=rtt_client_max"},
	{SCHEMA_FAM_NETWORK, "rtt_server_max", "=rtt_server_max"},
	{SCHEMA_FAM_NETWORK, "srt_max", "=srt_max"},
	{SCHEMA_FAM_NETWORK, "art_max", "=art_max"},
	{SCHEMA_FAM_NETWORK, "rrt_max", "=rrt_max"},
	{SCHEMA_FAM_NETWORK, "cit_max", "=cit_max"},
	{SCHEMA_FAM_NETWORK, "rtt_sum", "=rtt_sum"},
	{SCHEMA_FAM_NETWORK, "rtt_client_sum", "=rtt_client_sum"},
	{SCHEMA_FAM_NETWORK, "rtt_server_sum", "=rtt_server_sum"},
	{SCHEMA_FAM_NETWORK, "srt_sum", "=srt_sum"},
	{SCHEMA_FAM_NETWORK, "art_sum", "=art_sum"},
	{SCHEMA_FAM_NETWORK, "rrt_sum", "=rrt_sum"},
	{SCHEMA_FAM_NETWORK, "cit_sum", "=cit_sum"},
	{SCHEMA_FAM_NETWORK, "rtt_count", "=rtt_count"},
	{SCHEMA_FAM_NETWORK, "rtt_client_count", "=rtt_client_count"},
	{SCHEMA_FAM_NETWORK, "rtt_server_count", "=rtt_server_count"},
	{SCHEMA_FAM_NETWORK, "srt_count", "=srt_count"},
	{SCHEMA_FAM_NETWORK, "art_count", "=art_count"},
	{SCHEMA_FAM_NETWORK, "rrt_count", "=rrt_count"},
	{SCHEMA_FAM_NETWORK, "cit_count", "=cit_count"},
	{SCHEMA_FAM_NETWORK, "retrans_tx", "=retrans_tx"},
	{SCHEMA_FAM_NETWORK, "retrans_rx", "=retrans_rx"},
	{SCHEMA_FAM_NETWORK, "zero_win_tx", "=zero_win_tx"},
	{SCHEMA_FAM_NETWORK, "zero_win_rx", "=zero_win_rx"},
	{SCHEMA_FAM_NETWORK, "retrans_syn", "=retrans_syn"},
	{SCHEMA_FAM_NETWORK, "retrans_synack", "=retrans_synack"},
	{SCHEMA_FAM_NETWORK, "client_rst_flow", "=client_rst_flow"},
	{SCHEMA_FAM_NETWORK, "server_rst_flow", "=server_rst_flow"},
	{SCHEMA_FAM_NETWORK, "server_syn_miss", "=server_syn_miss"},
	{SCHEMA_FAM_NETWORK, "client_ack_miss", "=client_ack_miss"},
	{SCHEMA_FAM_NETWORK, "client_half_close_flow", "=client_half_close_flow"},
	{SCHEMA_FAM_NETWORK, "server_half_close_flow", "=server_half_close_flow"},
	{SCHEMA_FAM_NETWORK, "client_source_port_reuse", "=client_source_port_reuse"},
	{SCHEMA_FAM_NETWORK, "client_establish_other_rst", "=client_establish_other_rst"},
	{SCHEMA_FAM_NETWORK, "server_reset", "=server_reset"},
	{SCHEMA_FAM_NETWORK, "server_queue_lack", "=server_queue_lack"},
	{SCHEMA_FAM_NETWORK, "server_establish_other_rst", "=server_establish_other_rst"},
	{SCHEMA_FAM_NETWORK, "tcp_timeout", "=tcp_timeout"},
	{SCHEMA_FAM_NETWORK, "client_establish_fail", "=client_establish_fail"},
	{SCHEMA_FAM_NETWORK, "server_establish_fail", "=server_establish_fail"},
	{SCHEMA_FAM_NETWORK, "tcp_establish_fail", "=tcp_establish_fail"},
	{SCHEMA_FAM_NETWORK, "tcp_transfer_fail", "=tcp_transfer_fail"},
	{SCHEMA_FAM_NETWORK, "tcp_rst_fail", "=tcp_rst_fail"},
	{SCHEMA_FAM_NETWORK, "l7_client_error", "=l7_client_error"},
	{SCHEMA_FAM_NETWORK, "l7_server_error", "=l7_server_error"},
	{SCHEMA_FAM_NETWORK, "l7_timeout", "=l7_timeout"},
	{SCHEMA_FAM_NETWORK, "ooo_tx", "=ooo_tx"},
	{SCHEMA_FAM_NETWORK, "ooo_rx", "=ooo_rx"},
	{SCHEMA_FAM_NETWORK, "flow_load", "=flow_load"},
	{SCHEMA_FAM_NETWORK, "thread_id", "thread_id"},
	{SCHEMA_FAM_NETWORK, "ip4", "ip4"},
	{SCHEMA_FAM_NETWORK, "l3_epc", "l3_epc_id"},
	{SCHEMA_FAM_NETWORK, "l3_device", "l3_device_id"},
	{SCHEMA_FAM_NETWORK, "l3_device_type", "l3_device_type"},
	{SCHEMA_FAM_NETWORK, "region", "region_id"},
	{SCHEMA_FAM_NETWORK, "subnet", "subnet_id"},
	{SCHEMA_FAM_NETWORK, "host", "host_id"},
	{SCHEMA_FAM_NETWORK, "pod_node", "pod_node_id"},
	{SCHEMA_FAM_NETWORK, "az", "az_id"},
	{SCHEMA_FAM_NETWORK, "pod_group", "pod_group_id"},
	{SCHEMA_FAM_NETWORK, "pod_ns", "pod_ns_id"},
	{SCHEMA_FAM_NETWORK, "pod", "pod_id"},
	{SCHEMA_FAM_NETWORK, "pod_cluster", "pod_cluster_id"},
	{SCHEMA_FAM_NETWORK, "service", "service_id"},
	{SCHEMA_FAM_NETWORK, "auto_instance", "auto_instance_id"},
	{SCHEMA_FAM_NETWORK, "auto_instance_type", "auto_instance_type"},
	{SCHEMA_FAM_NETWORK, "auto_service", "auto_service_id"},
	{SCHEMA_FAM_NETWORK, "auto_service_type", "auto_service_type"},
	{SCHEMA_FAM_NETWORK, "gprocess", "gprocess_id"},
	{SCHEMA_FAM_NETWORK, "role", "role"},
	{SCHEMA_FAM_NETWORK, "protocol", "protocol"},
	{SCHEMA_FAM_NETWORK, "server_port", "server_port"},
	{SCHEMA_FAM_NETWORK, "agent", "agent_id"},
	{SCHEMA_FAM_NETWORK, "org_id", "org_id"},
	{SCHEMA_FAM_NETWORK, "team_id", "team_id"},
	{SCHEMA_FAM_NETWORK, "capture_network_type_id", "capture_network_type_id"},
	{SCHEMA_FAM_NETWORK, "is_ipv4", "is_ipv4"},
	{SCHEMA_FAM_NETWORK, "signal_source", "signal_source"},
	{SCHEMA_FAM_NETWORK, "time_str", "@ignored"},
	{SCHEMA_FAM_NETWORK_MAP, "datasource", "datasource"},
	{SCHEMA_FAM_NETWORK_MAP, "time", "@time"},
	{SCHEMA_FAM_NETWORK_MAP, "packet_tx", "=packet_tx"},
	{SCHEMA_FAM_NETWORK_MAP, "packet_rx", "=packet_rx"},
	{SCHEMA_FAM_NETWORK_MAP, "byte_tx", "=byte_tx"},
	{SCHEMA_FAM_NETWORK_MAP, "byte_rx", "=byte_rx"},
	{SCHEMA_FAM_NETWORK_MAP, "l3_byte_tx", "=l3_byte_tx"},
	{SCHEMA_FAM_NETWORK_MAP, "l3_byte_rx", "=l3_byte_rx"},
	{SCHEMA_FAM_NETWORK_MAP, "l4_byte_tx", "=l4_byte_tx"},
	{SCHEMA_FAM_NETWORK_MAP, "l4_byte_rx", "=l4_byte_rx"},
	{SCHEMA_FAM_NETWORK_MAP, "new_flow", "=new_flow"},
	{SCHEMA_FAM_NETWORK_MAP, "closed_flow", "=closed_flow"},
	{SCHEMA_FAM_NETWORK_MAP, "l7_request", "=l7_request"},
	{SCHEMA_FAM_NETWORK_MAP, "l7_response", "=l7_response"},
	{SCHEMA_FAM_NETWORK_MAP, "syn_count", "=syn_count"},
	{SCHEMA_FAM_NETWORK_MAP, "synack_count", "=synack_count"},
	{SCHEMA_FAM_NETWORK_MAP, "direction_score", "=direction_score"},
	{SCHEMA_FAM_NETWORK_MAP, "rtt_max", "=rtt_max"},
	{SCHEMA_FAM_NETWORK_MAP, "rtt_client_max", "=rtt_client_max"},
	{SCHEMA_FAM_NETWORK_MAP, "rtt_server_max", "=rtt_server_max"},
	{SCHEMA_FAM_NETWORK_MAP, "srt_max", "=srt_max"},
	{SCHEMA_FAM_NETWORK_MAP, "art_max", "=art_max"},
	{SCHEMA_FAM_NETWORK_MAP, "rrt_max", "=rrt_max"},
	{SCHEMA_FAM_NETWORK_MAP, "cit_max", "=cit_max"},
	{SCHEMA_FAM_NETWORK_MAP, "rtt_sum", "=rtt_sum"},
	{SCHEMA_FAM_NETWORK_MAP, "rtt_client_sum", "=rtt_client_sum"},
	{SCHEMA_FAM_NETWORK_MAP, "rtt_server_sum", "=rtt_server_sum"},
	{SCHEMA_FAM_NETWORK_MAP, "srt_sum", "=srt_sum"},
	{SCHEMA_FAM_NETWORK_MAP, "art_sum", "=art_sum"},
	{SCHEMA_FAM_NETWORK_MAP, "rrt_sum", "=rrt_sum"},
	{SCHEMA_FAM_NETWORK_MAP, "cit_sum", "=cit_sum"},
	{SCHEMA_FAM_NETWORK_MAP, "rtt_count", "=rtt_count"},
	{SCHEMA_FAM_NETWORK_MAP, "rtt_client_count", "=rtt_client_count"},
	{SCHEMA_FAM_NETWORK_MAP, "rtt_server_count", "=rtt_server_count"},
	{SCHEMA_FAM_NETWORK_MAP, "srt_count", "=srt_count"},
	{SCHEMA_FAM_NETWORK_MAP, "art_count", "=art_count"},
	{SCHEMA_FAM_NETWORK_MAP, "rrt_count", "=rrt_count"},
	{SCHEMA_FAM_NETWORK_MAP, "cit_count", "=cit_count"},
	{SCHEMA_FAM_NETWORK_MAP, "retrans_tx", "=retrans_tx"},
	{SCHEMA_FAM_NETWORK_MAP, "retrans_rx", "=retrans_rx"},
	{SCHEMA_FAM_NETWORK_MAP, "zero_win_tx", "=zero_win_tx"},
	{SCHEMA_FAM_NETWORK_MAP, "zero_win_rx", "=zero_win_rx"},
	{SCHEMA_FAM_NETWORK_MAP, "retrans_syn", "=retrans_syn"},
	{SCHEMA_FAM_NETWORK_MAP, "retrans_synack", "=retrans_synack"},
	{SCHEMA_FAM_NETWORK_MAP, "client_rst_flow", "=client_rst_flow"},
	{SCHEMA_FAM_NETWORK_MAP, "server_rst_flow", "=server_rst_flow"},
	{SCHEMA_FAM_NETWORK_MAP, "server_syn_miss", "=server_syn_miss"},
	{SCHEMA_FAM_NETWORK_MAP, "client_ack_miss", "=client_ack_miss"},
	{SCHEMA_FAM_NETWORK_MAP, "client_half_close_flow", "=client_half_close_flow"},
	{SCHEMA_FAM_NETWORK_MAP, "server_half_close_flow", "=server_half_close_flow"},
	{SCHEMA_FAM_NETWORK_MAP, "client_source_port_reuse", "=client_source_port_reuse"},
	{SCHEMA_FAM_NETWORK_MAP, "client_establish_other_rst", "=client_establish_other_rst"},
	{SCHEMA_FAM_NETWORK_MAP, "server_reset", "=server_reset"},
	{SCHEMA_FAM_NETWORK_MAP, "server_queue_lack", "=server_queue_lack"},
	{SCHEMA_FAM_NETWORK_MAP, "server_establish_other_rst", "=server_establish_other_rst"},
	{SCHEMA_FAM_NETWORK_MAP, "tcp_timeout", "=tcp_timeout"},
	{SCHEMA_FAM_NETWORK_MAP, "client_establish_fail", "=client_establish_fail"},
	{SCHEMA_FAM_NETWORK_MAP, "server_establish_fail", "=server_establish_fail"},
	{SCHEMA_FAM_NETWORK_MAP, "tcp_establish_fail", "=tcp_establish_fail"},
	{SCHEMA_FAM_NETWORK_MAP, "tcp_transfer_fail", "=tcp_transfer_fail"},
	{SCHEMA_FAM_NETWORK_MAP, "tcp_rst_fail", "=tcp_rst_fail"},
	{SCHEMA_FAM_NETWORK_MAP, "l7_client_error", "=l7_client_error"},
	{SCHEMA_FAM_NETWORK_MAP, "l7_server_error", "=l7_server_error"},
	{SCHEMA_FAM_NETWORK_MAP, "l7_timeout", "=l7_timeout"},
	{SCHEMA_FAM_NETWORK_MAP, "ooo_tx", "=ooo_tx"},
	{SCHEMA_FAM_NETWORK_MAP, "ooo_rx", "=ooo_rx"},
	{SCHEMA_FAM_NETWORK_MAP, "flow_load", "=flow_load"},
	{SCHEMA_FAM_NETWORK_MAP, "thread_id", "thread_id"},
	{SCHEMA_FAM_NETWORK_MAP, "ip4_0", "ip4_0"},
	{SCHEMA_FAM_NETWORK_MAP, "l3_epc_0", "l3_epc_id_0"},
	{SCHEMA_FAM_NETWORK_MAP, "l3_device_0", "l3_device_id_0"},
	{SCHEMA_FAM_NETWORK_MAP, "l3_device_type_0", "l3_device_type_0"},
	{SCHEMA_FAM_NETWORK_MAP, "region_0", "region_id_0"},
	{SCHEMA_FAM_NETWORK_MAP, "subnet_0", "subnet_id_0"},
	{SCHEMA_FAM_NETWORK_MAP, "host_0", "host_id_0"},
	{SCHEMA_FAM_NETWORK_MAP, "pod_node_0", "pod_node_id_0"},
	{SCHEMA_FAM_NETWORK_MAP, "az_0", "az_id_0"},
	{SCHEMA_FAM_NETWORK_MAP, "pod_group_0", "pod_group_id_0"},
	{SCHEMA_FAM_NETWORK_MAP, "pod_ns_0", "pod_ns_id_0"},
	{SCHEMA_FAM_NETWORK_MAP, "pod_0", "pod_id_0"},
	{SCHEMA_FAM_NETWORK_MAP, "pod_cluster_0", "pod_cluster_id_0"},
	{SCHEMA_FAM_NETWORK_MAP, "service_0", "service_id_0"},
	{SCHEMA_FAM_NETWORK_MAP, "auto_instance_0", "auto_instance_id_0"},
	{SCHEMA_FAM_NETWORK_MAP, "auto_instance_type_0", "auto_instance_type_0"},
	{SCHEMA_FAM_NETWORK_MAP, "auto_service_0", "auto_service_id_0"},
	{SCHEMA_FAM_NETWORK_MAP, "auto_service_type_0", "auto_service_type_0"},
	{SCHEMA_FAM_NETWORK_MAP, "gprocess_0", "gprocess_id_0"},
	{SCHEMA_FAM_NETWORK_MAP, "ip4_1", "ip4_1"},
	{SCHEMA_FAM_NETWORK_MAP, "l3_epc_1", "l3_epc_id_1"},
	{SCHEMA_FAM_NETWORK_MAP, "l3_device_1", "l3_device_id_1"},
	{SCHEMA_FAM_NETWORK_MAP, "l3_device_type_1", "l3_device_type_1"},
	{SCHEMA_FAM_NETWORK_MAP, "region_1", "region_id_1"},
	{SCHEMA_FAM_NETWORK_MAP, "subnet_1", "subnet_id_1"},
	{SCHEMA_FAM_NETWORK_MAP, "host_1", "host_id_1"},
	{SCHEMA_FAM_NETWORK_MAP, "pod_node_1", "pod_node_id_1"},
	{SCHEMA_FAM_NETWORK_MAP, "az_1", "az_id_1"},
	{SCHEMA_FAM_NETWORK_MAP, "pod_group_1", "pod_group_id_1"},
	{SCHEMA_FAM_NETWORK_MAP, "pod_ns_1", "pod_ns_id_1"},
	{SCHEMA_FAM_NETWORK_MAP, "pod_1", "pod_id_1"},
	{SCHEMA_FAM_NETWORK_MAP, "pod_cluster_1", "pod_cluster_id_1"},
	{SCHEMA_FAM_NETWORK_MAP, "service_1", "service_id_1"},
	{SCHEMA_FAM_NETWORK_MAP, "auto_instance_1", "auto_instance_id_1"},
	{SCHEMA_FAM_NETWORK_MAP, "auto_instance_type_1", "auto_instance_type_1"},
	{SCHEMA_FAM_NETWORK_MAP, "auto_service_1", "auto_service_id_1"},
	{SCHEMA_FAM_NETWORK_MAP, "auto_service_type_1", "auto_service_type_1"},
	{SCHEMA_FAM_NETWORK_MAP, "gprocess_1", "gprocess_id_1"},
	{SCHEMA_FAM_NETWORK_MAP, "protocol", "protocol"},
	{SCHEMA_FAM_NETWORK_MAP, "server_port", "server_port"},
	{SCHEMA_FAM_NETWORK_MAP, "agent", "agent_id"},
	{SCHEMA_FAM_NETWORK_MAP, "org_id", "org_id"},
	{SCHEMA_FAM_NETWORK_MAP, "team_id", "team_id"},
	{SCHEMA_FAM_NETWORK_MAP, "capture_nic", "capture_nic"},
	{SCHEMA_FAM_NETWORK_MAP, "capture_nic_type", "capture_nic_type"},
	{SCHEMA_FAM_NETWORK_MAP, "nat_source", "nat_source"},
	{SCHEMA_FAM_NETWORK_MAP, "tunnel_type", "tunnel_type"},
	{SCHEMA_FAM_NETWORK_MAP, "observation_point", "observation_point"},
	{SCHEMA_FAM_NETWORK_MAP, "capture_network_type_id", "capture_network_type_id"},
	{SCHEMA_FAM_NETWORK_MAP, "is_ipv4", "is_ipv4"},
	{SCHEMA_FAM_NETWORK_MAP, "signal_source", "signal_source"},
	{SCHEMA_FAM_NETWORK_MAP, "time_str", "@ignored"},
	{SCHEMA_FAM_APPLICATION, "datasource", "datasource"},
	{SCHEMA_FAM_APPLICATION, "time", "@time"},
	{SCHEMA_FAM_APPLICATION, "request", "=request"},
	{SCHEMA_FAM_APPLICATION, "response", "=response"},
	{SCHEMA_FAM_APPLICATION, "direction_score", "=direction_score"},
	{SCHEMA_FAM_APPLICATION, "rrt_max", "=rrt_max"},
	{SCHEMA_FAM_APPLICATION, "rrt_sum", "=rrt_sum"},
	{SCHEMA_FAM_APPLICATION, "rrt_count", "=rrt_count"},
	{SCHEMA_FAM_APPLICATION, "client_error", "=client_error"},
	{SCHEMA_FAM_APPLICATION, "server_error", "=server_error"},
	{SCHEMA_FAM_APPLICATION, "timeout", "=timeout"},
	{SCHEMA_FAM_APPLICATION, "thread_id", "thread_id"},
	{SCHEMA_FAM_APPLICATION, "ip4", "ip4"},
	{SCHEMA_FAM_APPLICATION, "l3_epc", "l3_epc_id"},
	{SCHEMA_FAM_APPLICATION, "l3_device", "l3_device_id"},
	{SCHEMA_FAM_APPLICATION, "l3_device_type", "l3_device_type"},
	{SCHEMA_FAM_APPLICATION, "region", "region_id"},
	{SCHEMA_FAM_APPLICATION, "subnet", "subnet_id"},
	{SCHEMA_FAM_APPLICATION, "host", "host_id"},
	{SCHEMA_FAM_APPLICATION, "pod_node", "pod_node_id"},
	{SCHEMA_FAM_APPLICATION, "az", "az_id"},
	{SCHEMA_FAM_APPLICATION, "pod_group", "pod_group_id"},
	{SCHEMA_FAM_APPLICATION, "pod_ns", "pod_ns_id"},
	{SCHEMA_FAM_APPLICATION, "pod", "pod_id"},
	{SCHEMA_FAM_APPLICATION, "pod_cluster", "pod_cluster_id"},
	{SCHEMA_FAM_APPLICATION, "service", "service_id"},
	{SCHEMA_FAM_APPLICATION, "auto_instance", "auto_instance_id"},
	{SCHEMA_FAM_APPLICATION, "auto_instance_type", "auto_instance_type"},
	{SCHEMA_FAM_APPLICATION, "auto_service", "auto_service_id"},
	{SCHEMA_FAM_APPLICATION, "auto_service_type", "auto_service_type"},
	{SCHEMA_FAM_APPLICATION, "gprocess", "gprocess_id"},
	{SCHEMA_FAM_APPLICATION, "role", "role"},
	{SCHEMA_FAM_APPLICATION, "protocol", "protocol"},
	{SCHEMA_FAM_APPLICATION, "server_port", "server_port"},
	{SCHEMA_FAM_APPLICATION, "agent", "agent_id"},
	{SCHEMA_FAM_APPLICATION, "org_id", "org_id"},
	{SCHEMA_FAM_APPLICATION, "team_id", "team_id"},
	{SCHEMA_FAM_APPLICATION, "capture_network_type_id", "capture_network_type_id"},
	{SCHEMA_FAM_APPLICATION, "is_ipv4", "is_ipv4"},
	{SCHEMA_FAM_APPLICATION, "l7_protocol", "l7_protocol"},
	{SCHEMA_FAM_APPLICATION, "app_service", "app_service"},
	{SCHEMA_FAM_APPLICATION, "app_instance", "app_instance"},
	{SCHEMA_FAM_APPLICATION, "endpoint", "endpoint"},
	{SCHEMA_FAM_APPLICATION, "biz_type", "biz_type"},
	{SCHEMA_FAM_APPLICATION, "signal_source", "signal_source"},
	{SCHEMA_FAM_APPLICATION, "time_str", "@ignored"},
	{SCHEMA_FAM_APPLICATION_MAP, "datasource", "datasource"},
	{SCHEMA_FAM_APPLICATION_MAP, "time", "@time"},
	{SCHEMA_FAM_APPLICATION_MAP, "request", "=request"},
	{SCHEMA_FAM_APPLICATION_MAP, "response", "=response"},
	{SCHEMA_FAM_APPLICATION_MAP, "direction_score", "=direction_score"},
	{SCHEMA_FAM_APPLICATION_MAP, "rrt_max", "=rrt_max"},
	{SCHEMA_FAM_APPLICATION_MAP, "rrt_sum", "=rrt_sum"},
	{SCHEMA_FAM_APPLICATION_MAP, "rrt_count", "=rrt_count"},
	{SCHEMA_FAM_APPLICATION_MAP, "client_error", "=client_error"},
	{SCHEMA_FAM_APPLICATION_MAP, "server_error", "=server_error"},
	{SCHEMA_FAM_APPLICATION_MAP, "timeout", "=timeout"},
	{SCHEMA_FAM_APPLICATION_MAP, "thread_id", "thread_id"},
	{SCHEMA_FAM_APPLICATION_MAP, "ip4_0", "ip4_0"},
	{SCHEMA_FAM_APPLICATION_MAP, "l3_epc_0", "l3_epc_id_0"},
	{SCHEMA_FAM_APPLICATION_MAP, "l3_device_0", "l3_device_id_0"},
	{SCHEMA_FAM_APPLICATION_MAP, "l3_device_type_0", "l3_device_type_0"},
	{SCHEMA_FAM_APPLICATION_MAP, "region_0", "region_id_0"},
	{SCHEMA_FAM_APPLICATION_MAP, "subnet_0", "subnet_id_0"},
	{SCHEMA_FAM_APPLICATION_MAP, "host_0", "host_id_0"},
	{SCHEMA_FAM_APPLICATION_MAP, "pod_node_0", "pod_node_id_0"},
	{SCHEMA_FAM_APPLICATION_MAP, "az_0", "az_id_0"},
	{SCHEMA_FAM_APPLICATION_MAP, "pod_group_0", "pod_group_id_0"},
	{SCHEMA_FAM_APPLICATION_MAP, "pod_ns_0", "pod_ns_id_0"},
	{SCHEMA_FAM_APPLICATION_MAP, "pod_0", "pod_id_0"},
	{SCHEMA_FAM_APPLICATION_MAP, "pod_cluster_0", "pod_cluster_id_0"},
	{SCHEMA_FAM_APPLICATION_MAP, "service_0", "service_id_0"},
	{SCHEMA_FAM_APPLICATION_MAP, "auto_instance_0", "auto_instance_id_0"},
	{SCHEMA_FAM_APPLICATION_MAP, "auto_instance_type_0", "auto_instance_type_0"},
	{SCHEMA_FAM_APPLICATION_MAP, "auto_service_0", "auto_service_id_0"},
	{SCHEMA_FAM_APPLICATION_MAP, "auto_service_type_0", "auto_service_type_0"},
	{SCHEMA_FAM_APPLICATION_MAP, "gprocess_0", "gprocess_id_0"},
	{SCHEMA_FAM_APPLICATION_MAP, "ip4_1", "ip4_1"},
	{SCHEMA_FAM_APPLICATION_MAP, "l3_epc_1", "l3_epc_id_1"},
	{SCHEMA_FAM_APPLICATION_MAP, "l3_device_1", "l3_device_id_1"},
	{SCHEMA_FAM_APPLICATION_MAP, "l3_device_type_1", "l3_device_type_1"},
	{SCHEMA_FAM_APPLICATION_MAP, "region_1", "region_id_1"},
	{SCHEMA_FAM_APPLICATION_MAP, "subnet_1", "subnet_id_1"},
	{SCHEMA_FAM_APPLICATION_MAP, "host_1", "host_id_1"},
	{SCHEMA_FAM_APPLICATION_MAP, "pod_node_1", "pod_node_id_1"},
	{SCHEMA_FAM_APPLICATION_MAP, "az_1", "az_id_1"},
	{SCHEMA_FAM_APPLICATION_MAP, "pod_group_1", "pod_group_id_1"},
	{SCHEMA_FAM_APPLICATION_MAP, "pod_ns_1", "pod_ns_id_1"},
	{SCHEMA_FAM_APPLICATION_MAP, "pod_1", "pod_id_1"},
	{SCHEMA_FAM_APPLICATION_MAP, "pod_cluster_1", "pod_cluster_id_1"},
	{SCHEMA_FAM_APPLICATION_MAP, "service_1", "service_id_1"},
	{SCHEMA_FAM_APPLICATION_MAP, "auto_instance_1", "auto_instance_id_1"},
	{SCHEMA_FAM_APPLICATION_MAP, "auto_instance_type_1", "auto_instance_type_1"},
	{SCHEMA_FAM_APPLICATION_MAP, "auto_service_1", "auto_service_id_1"},
	{SCHEMA_FAM_APPLICATION_MAP, "auto_service_type_1", "auto_service_type_1"},
	{SCHEMA_FAM_APPLICATION_MAP, "gprocess_1", "gprocess_id_1"},
	{SCHEMA_FAM_APPLICATION_MAP, "protocol", "protocol"},
	{SCHEMA_FAM_APPLICATION_MAP, "server_port", "server_port"},
	{SCHEMA_FAM_APPLICATION_MAP, "agent", "agent_id"},
	{SCHEMA_FAM_APPLICATION_MAP, "org_id", "org_id"},
	{SCHEMA_FAM_APPLICATION_MAP, "team_id", "team_id"},
	{SCHEMA_FAM_APPLICATION_MAP, "capture_nic", "capture_nic"},
	{SCHEMA_FAM_APPLICATION_MAP, "capture_nic_type", "capture_nic_type"},
	{SCHEMA_FAM_APPLICATION_MAP, "nat_source", "nat_source"},
	{SCHEMA_FAM_APPLICATION_MAP, "tunnel_type", "tunnel_type"},
	{SCHEMA_FAM_APPLICATION_MAP, "observation_point", "observation_point"},
	{SCHEMA_FAM_APPLICATION_MAP, "capture_network_type_id", "capture_network_type_id"},
	{SCHEMA_FAM_APPLICATION_MAP, "is_ipv4", "is_ipv4"},
	{SCHEMA_FAM_APPLICATION_MAP, "l7_protocol", "l7_protocol"},
	{SCHEMA_FAM_APPLICATION_MAP, "app_service", "app_service"},
	{SCHEMA_FAM_APPLICATION_MAP, "app_instance", "app_instance"},
	{SCHEMA_FAM_APPLICATION_MAP, "endpoint", "endpoint"},
	{SCHEMA_FAM_APPLICATION_MAP, "biz_type", "biz_type"},
	{SCHEMA_FAM_APPLICATION_MAP, "signal_source", "signal_source"},
	{SCHEMA_FAM_APPLICATION_MAP, "time_str", "@ignored"},
};

Test(schema, data_sources_of_spec_1_3)
{
	static const char *const names[] = {
		"flow_metrics.network.1m", "flow_metrics.network_map.1m",
		"flow_metrics.application.1m", "flow_metrics.application_map.1m", NULL,
		"flow_metrics.network.1s", "flow_metrics.network_map.1s",
		"flow_metrics.application.1s", "flow_metrics.application_map.1s",
	};
	static const enum schema_family fam[] = {0, 1, 2, 3, 0, 0, 1, 2, 3};

	for (int ds = 0; ds < SCHEMA_DS_MAX; ds++) {
		if (!names[ds]) {
			cr_expect_null(schema_ds_name(ds));
			continue;
		}
		cr_expect_str_eq(schema_ds_name(ds), names[ds]);
		cr_expect_eq(schema_ds_from_name(names[ds], strlen(names[ds])), ds);
		cr_expect_eq(schema_ds_family(ds), fam[ds]);
	}
	cr_expect_eq(schema_ds_from_name("", 0), -1);
	cr_expect_eq(schema_ds_from_name("flow_metrics.network.1", 22), -1);
	cr_expect_eq(schema_ds_from_name("flow_log.l7_flow_log", 20), -1);
	cr_expect_null(schema_ds_name(9));
	cr_expect_null(schema_ds_name(-1));
	cr_expect(schema_family_is_map(SCHEMA_FAM_NETWORK_MAP));
	cr_expect(schema_family_is_map(SCHEMA_FAM_APPLICATION_MAP));
	cr_expect_not(schema_family_is_map(SCHEMA_FAM_APPLICATION));
	cr_expect(schema_family_is_app(SCHEMA_FAM_APPLICATION_MAP));
	cr_expect_not(schema_family_is_app(SCHEMA_FAM_NETWORK_MAP));
}

Test(schema, tag_table_rows_of_spec_3_1)
{
	cr_expect_str_eq(schema_tags[SCHEMA_T_TIME].json, "time");
	cr_expect_str_eq(schema_tags[SCHEMA_T_IP6].map_json, "ip6_0");
	cr_expect_str_eq(schema_tags[SCHEMA_T_GPROCESS_ID].map_json, "gprocess_id_0");
	cr_expect_str_eq(schema_tags[SCHEMA_T_IP4_1].json, "ip4_1");
	cr_expect_str_eq(schema_tags[SCHEMA_T_SIGNAL_SOURCE].json, "signal_source");
	cr_expect_eq(SCHEMA_T_COUNT, SCHEMA_TAG_COUNT);
	cr_expect_eq(schema_tags[SCHEMA_T_L3_EPC_ID].kind, SCHEMA_KIND_INT);
	cr_expect_eq(schema_tags[SCHEMA_T_IP4].kind, SCHEMA_KIND_IP4);
	cr_expect_eq(schema_tags[SCHEMA_T_IP6_1].kind, SCHEMA_KIND_IP6);
	cr_expect_eq(schema_tags[SCHEMA_T_OBSERVATION_POINT].kind, SCHEMA_KIND_STRING);
	cr_expect_eq(schema_tags[SCHEMA_T_OBSERVATION_POINT].enum_id, SCHEMA_ENUM_OBSERVATION_POINT);
	cr_expect_eq(schema_tags[SCHEMA_T_SIGNAL_SOURCE].enum_id, SCHEMA_ENUM_SIGNAL_SOURCE);
	cr_expect_eq(schema_tags[SCHEMA_T_AGENT_ID].ut_slot, SCHEMA_UT_AGENT);
	cr_expect_eq(schema_tags[SCHEMA_T_AGENT_ID].subcat, SCHEMA_SUB_CAPTURE_INFO);
	cr_expect_eq(schema_tags[SCHEMA_T_THREAD_ID].subcat, SCHEMA_SUB_NONE);
	cr_expect_eq(schema_tags[SCHEMA_T_ROLE].families,
		     SCHEMA_FAM_BIT(SCHEMA_FAM_NETWORK) | SCHEMA_FAM_BIT(SCHEMA_FAM_APPLICATION));

	/* Universal tags: 19 in single-side families, 37 in map families (§5.1). */
	for (int k = 0; k < SCHEMA_FAM_COUNT; k++) {
		int ut = 0;

		for (int t = 0; t < SCHEMA_TAG_COUNT; t++)
			if (schema_tag_in_family(t, fams[k]) && schema_tags[t].ut_slot)
				ut++;
		cr_expect_eq(ut, schema_family_is_map(fams[k]) ? 37 : 19, "family %d: %d", k, ut);
	}
	/* Side 1 is exactly the json names ending in _1. */
	for (int t = 0; t < SCHEMA_TAG_COUNT; t++) {
		const char *j = schema_tags[t].json;
		size_t n = strlen(j);

		cr_expect_eq(schema_tags[t].side, n > 2 && strcmp(j + n - 2, "_1") == 0, "%s", j);
		if (schema_tags[t].ut_slot)
			cr_expect_eq(schema_tags[t].subcat, t == SCHEMA_T_AGENT_ID ? SCHEMA_SUB_CAPTURE_INFO
										 : SCHEMA_SUB_UNIVERSAL_TAG, "%s", j);
	}
}

Test(schema, label_candidate_counts_of_spec_3_2)
{
	static const int tags[] = {31, 55, 36, 60};
	static const int labels[] = {29, 52, 34, 57};
	static const int metrics[] = {65, 65, 9, 9};

	for (int k = 0; k < SCHEMA_FAM_COUNT; k++) {
		int all = 0, lab = 0, mc;

		for (int t = 0; t < SCHEMA_TAG_COUNT; t++) {
			if (!schema_tag_in_family(t, fams[k]))
				continue;
			all++;
			if (t != SCHEMA_TAG_TIME && schema_tags[t].kind != SCHEMA_KIND_IP6)
				lab++;
		}
		schema_metrics(fams[k], &mc);
		cr_expect_eq(all, tags[k], "family %d tags %d", k, all);
		cr_expect_eq(lab, labels[k], "family %d labels %d", k, lab);
		cr_expect_eq(mc, metrics[k]);
	}
}

Test(schema, metric_tables_of_spec_3_3_and_3_4)
{
	int n;
	const struct schema_metric *m = schema_metrics(SCHEMA_FAM_NETWORK_MAP, &n);

	cr_expect_eq(n, 65);
	cr_expect_str_eq(m[0].name, "packet_tx");
	cr_expect_str_eq(m[49].name, "client_establish_other_rst");
	cr_expect_str_eq(m[64].name, "flow_load");
	cr_expect_eq(m[36].subcat, SCHEMA_SUB_NONE); /* retrans_tx */
	cr_expect_eq(m[62].subcat, SCHEMA_SUB_NONE); /* ooo_tx */
	m = schema_metrics(SCHEMA_FAM_APPLICATION, &n);
	cr_expect_eq(n, 9);
	cr_expect_str_eq(m[2].name, "direction_score");
	cr_expect_str_eq(m[8].name, "timeout");
	cr_expect_eq(m[8].subcat, SCHEMA_SUB_ERROR);
	cr_expect_eq(schema_metric_by_name(SCHEMA_FAM_APPLICATION, "rrt_max", 7), 3);
	cr_expect_eq(schema_metric_by_name(SCHEMA_FAM_NETWORK, "rrt_max", 7), 20);
	cr_expect_eq(schema_metric_by_name(SCHEMA_FAM_NETWORK, "request", 7), -1);
}

Test(schema, every_key_of_json_keys_to_labels_resolves)
{
	for (size_t i = 0; i < sizeof(spec_keys) / sizeof(spec_keys[0]); i++) {
		const char *key = spec_keys[i].key, *label = spec_keys[i].label;
		enum schema_family f = spec_keys[i].f;
		int idx = -1;
		enum schema_key_kind k = schema_lookup_key(f, key, strlen(key), &idx);

		if (strcmp(label, "datasource") == 0) {
			cr_expect_eq(k, SCHEMA_KEY_DATASOURCE, "%s", key);
		} else if (strcmp(label, "@time") == 0) {
			cr_expect_eq(k, SCHEMA_KEY_TIME, "%s", key);
		} else if (strcmp(label, "@ignored") == 0) {
			cr_expect_eq(k, SCHEMA_KEY_IGNORED, "%s", key);
		} else if (label[0] == '=') {
			int n;
			const struct schema_metric *m = schema_metrics(f, &n);

			cr_assert_eq(k, SCHEMA_KEY_METRIC, "family %d key %s", f, key);
			cr_assert(idx >= 0 && idx < n);
			cr_expect_str_eq(m[idx].name, label + 1);
		} else {
			cr_assert_eq(k, SCHEMA_KEY_TAG, "family %d key %s", f, key);
			cr_assert(idx > 0 && idx < SCHEMA_TAG_COUNT);
			cr_expect(schema_tag_in_family(idx, f), "%s", key);
			cr_expect_str_eq(schema_tag_label(idx, f), label, "family %d key %s", f, key);
		}
	}
}

Test(schema, untranslated_and_label_names_resolve)
{
	for (int k = 0; k < SCHEMA_FAM_COUNT; k++) {
		enum schema_family f = fams[k];

		for (int t = 1; t < SCHEMA_TAG_COUNT; t++) {
			const char *names[2] = {schema_tags[t].json, schema_tag_label(t, f)};
			int idx = -1;

			for (int j = 0; j < 2; j++) {
				enum schema_key_kind kind = schema_lookup_key(f, names[j], strlen(names[j]), &idx);

				if (schema_tag_in_family(t, f)) {
					cr_expect_eq(kind, SCHEMA_KEY_TAG, "%d %s", k, names[j]);
					cr_expect_eq(idx, t, "%d %s", k, names[j]);
				} else {
					cr_expect_eq(kind, SCHEMA_KEY_UNKNOWN, "%d %s", k, names[j]);
				}
			}
		}
	}
	{
		int idx = -1;

		cr_expect_eq(schema_lookup_key(SCHEMA_FAM_NETWORK_MAP, "pod_id_0", 8, &idx), SCHEMA_KEY_TAG);
		cr_expect_eq(idx, SCHEMA_T_POD_ID);
		cr_expect_eq(schema_lookup_key(SCHEMA_FAM_NETWORK_MAP, "pod_0", 5, &idx), SCHEMA_KEY_TAG);
		cr_expect_eq(idx, SCHEMA_T_POD_ID);
		cr_expect_eq(schema_lookup_key(SCHEMA_FAM_APPLICATION_MAP, "l3_epc_1", 8, &idx), SCHEMA_KEY_TAG);
		cr_expect_eq(idx, SCHEMA_T_L3_EPC_ID_1);
		cr_expect_eq(schema_lookup_key(SCHEMA_FAM_APPLICATION, "agent_id", 8, &idx), SCHEMA_KEY_TAG);
		cr_expect_eq(idx, SCHEMA_T_AGENT_ID);
		cr_expect_eq(schema_lookup_key(SCHEMA_FAM_APPLICATION, "agent", 5, &idx), SCHEMA_KEY_TAG);
		cr_expect_eq(idx, SCHEMA_T_AGENT_ID);
		cr_expect_eq(schema_lookup_key(SCHEMA_FAM_NETWORK, "l3_epc_id", 9, &idx), SCHEMA_KEY_TAG);
		cr_expect_eq(idx, SCHEMA_T_L3_EPC_ID);
		/* map_json names only in map families */
		cr_expect_eq(schema_lookup_key(SCHEMA_FAM_NETWORK, "pod_id_0", 8, &idx), SCHEMA_KEY_UNKNOWN);
		cr_expect_eq(schema_lookup_key(SCHEMA_FAM_NETWORK, "ip4_1", 5, &idx), SCHEMA_KEY_UNKNOWN);
		cr_expect_eq(schema_lookup_key(SCHEMA_FAM_NETWORK_MAP, "role", 4, &idx), SCHEMA_KEY_UNKNOWN);
		cr_expect_eq(schema_lookup_key(SCHEMA_FAM_NETWORK, "l7_protocol", 11, &idx), SCHEMA_KEY_UNKNOWN);
		/* same metric name, different index per family */
		cr_expect_eq(schema_lookup_key(SCHEMA_FAM_NETWORK, "direction_score", 15, &idx), SCHEMA_KEY_METRIC);
		cr_expect_eq(idx, 14);
		cr_expect_eq(schema_lookup_key(SCHEMA_FAM_APPLICATION_MAP, "direction_score", 15, &idx), SCHEMA_KEY_METRIC);
		cr_expect_eq(idx, 2);
		cr_expect_eq(schema_lookup_key(SCHEMA_FAM_APPLICATION, "packet_tx", 9, &idx), SCHEMA_KEY_UNKNOWN);
	}
}

Test(schema, ignored_and_unknown_keys)
{
	static const char *const ignored[] = {
		"time_str", "k8s_label_names", "k8s_label_values", "k8s_label_names_0",
		"k8s_label_values_1", "k8s_label_anything_longer_than_forty_bytes_xxxxxxxxxxxx",
	};
	static const char *const unknown[] = {
		"", "t", "tim", "times", "Time", "pod_id_2", "pod_", "_id", "datasourc", "datasourcex",
		"k8s_label", "ip6_2", "custom_tag", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	};
	int idx;

	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		for (int k = 0; k < SCHEMA_FAM_COUNT; k++)
			cr_expect_eq(schema_lookup_key(fams[k], ignored[i], strlen(ignored[i]), &idx),
				     SCHEMA_KEY_IGNORED, "%s", ignored[i]);
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++)
		for (int k = 0; k < SCHEMA_FAM_COUNT; k++)
			cr_expect_eq(schema_lookup_key(fams[k], unknown[i], strlen(unknown[i]), &idx),
				     SCHEMA_KEY_UNKNOWN, "%s", unknown[i]);
	/* A key that is a prefix of a buffer: only <len> bytes count. */
	cr_expect_eq(schema_lookup_key(SCHEMA_FAM_NETWORK, "timeout", 4, &idx), SCHEMA_KEY_TIME);
	cr_expect_eq(schema_lookup_key(SCHEMA_FAM_NETWORK, "timeout", 7, &idx), SCHEMA_KEY_UNKNOWN);
}

/* Every key of every row of the shared sample resolves for the row's family. */
Test(schema, every_key_of_the_sample_rows_resolves)
{
	const char *root = getenv("FLOWRW_ROOT");
	char path[4096], line[65536];
	FILE *fp;
	int rows = 0, keys = 0;

	snprintf(path, sizeof(path), "%s/tests/data/rows-all-sources.ndjson", root ? root : ".");
	fp = fopen(path, "r");
	cr_assert_not_null(fp, "cannot open %s", path);
	while (fgets(line, sizeof(line), fp)) {
		const char *ds = strstr(line, "\"datasource\":\""), *p;
		enum schema_family f;
		int dsid;

		cr_assert_not_null(ds);
		ds += 14;
		dsid = schema_ds_from_name(ds, (size_t)(strchr(ds, '"') - ds));
		cr_assert(dsid >= 0, "row %d", rows);
		f = schema_ds_family(dsid);
		/* keys are the strings followed by ':' at object level (no nesting in samples) */
		for (p = line; (p = strchr(p, '"')) != NULL;) {
			const char *e = strchr(p + 1, '"');
			int idx;

			cr_assert_not_null(e);
			if (e[1] == ':') {
				enum schema_key_kind k = schema_lookup_key(f, p + 1, (size_t)(e - p - 1), &idx);

				cr_expect_neq(k, SCHEMA_KEY_UNKNOWN, "row %d key %.*s", rows, (int)(e - p - 1), p + 1);
				keys++;
				p = e + 2;
			} else {
				/* a string value: skip it, escapes included */
				for (e = p + 1; *e && *e != '"'; e++)
					if (*e == '\\' && e[1])
						e++;
				p = *e ? e + 1 : e;
			}
		}
		rows++;
	}
	fclose(fp);
	cr_expect_eq(rows, 16);
	cr_expect_gt(keys, 16 * 50);
}

Test(schema, subcategories_by_name)
{
	cr_expect_eq(schema_subcat_from_name("flow_info", 9), SCHEMA_SUB_FLOW_INFO);
	cr_expect_eq(schema_subcat_from_name("delay", 5), SCHEMA_SUB_DELAY);
	cr_expect_eq(schema_subcat_from_name("custom_tag", 10), -1);
	cr_expect_eq(schema_subcat_from_name("tag", 3), -1);
	cr_expect(schema_subcat_is_tag(SCHEMA_SUB_DATA_LINK_LAYER));
	cr_expect(schema_subcat_is_tag(SCHEMA_SUB_EVENT_INFO));
	cr_expect_not(schema_subcat_is_tag(SCHEMA_SUB_L3_THROUGHPUT));
	cr_expect_not(schema_subcat_is_tag(SCHEMA_SUB_NONE));
	cr_expect_eq(schema_tag_by_json("pod_id"), SCHEMA_T_POD_ID);
	cr_expect_eq(schema_tag_by_json("pod_id_0"), -1);
	cr_expect_eq(schema_tag_by_any_name("pod_id_0"), SCHEMA_T_POD_ID);
	cr_expect_eq(schema_tag_by_any_name("ip4_1"), SCHEMA_T_IP4_1);
	cr_expect_eq(schema_tag_by_any_name("nope"), -1);
	cr_expect_str_eq(schema_ut_name(SCHEMA_UT_AUTO_SERVICE), "auto_service");
}

/* The hot path: a few million lookups a second is the budget. */
Test(schema, lookup_is_fast, .timeout = 30)
{
	struct timespec a, b;
	long n = 0, hits = 0;
	double secs;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int rep = 0; rep < 2000; rep++) {
		for (size_t i = 0; i < sizeof(spec_keys) / sizeof(spec_keys[0]); i++) {
			int idx;

			hits += schema_lookup_key(spec_keys[i].f, spec_keys[i].key, strlen(spec_keys[i].key),
						  &idx) != SCHEMA_KEY_UNKNOWN;
			n++;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	cr_expect_eq(hits, n);
	cr_log_info("%ld lookups in %.3f s: %.1f M/s, %d names", n, secs, n / secs / 1e6,
		    schema_key_count());
	cr_expect_gt(n / secs, 5e6, "lookup too slow: %.1f M/s", n / secs / 1e6);
}
