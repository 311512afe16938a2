"""The consequence engine alone (no Django): redundancy, propagation, degradation, spoilage."""

from linewatch.core.engine.consequence import AssetSpec, Group, LineSpec, PlantGraph


def plant() -> PlantGraph:
    assets = [
        AssetSpec("core-a", "core-a", "p", "switch"),
        AssetSpec("core-b", "core-b", "p", "switch"),
        AssetSpec("sw-1", "sw-1", "p", "switch", (Group("uplink", ("core-a", "core-b"), 1),)),
        AssetSpec("plc-1", "plc-1", "p", "plc", (Group("access switch", ("sw-1",)),)),
        AssetSpec("plc-2", "plc-2", "p", "plc"),
        AssetSpec("hmi-a", "hmi-a", "p", "hmi"),
        AssetSpec("hmi-b", "hmi-b", "p", "hmi"),
        AssetSpec("mes", "mes", "p", "scada_server"),
        AssetSpec("sis", "sis", "p", "safety_plc"),
        AssetSpec("fan-1", "fan-1", "p", "drive"),
        AssetSpec("fan-2", "fan-2", "p", "drive"),
        AssetSpec("fan-3", "fan-3", "p", "drive"),
    ]
    lines = [
        LineSpec("l1", "Line 1", "p", 40000, 12, 0, None, False, (
            Group("PLC", ("plc-1",)),
            Group("panels", ("hmi-a", "hmi-b"), 1),
            Group("MES", ("mes",), 1, "degrades", 0.25),
        )),
        LineSpec("cold", "Cold store", "p", 5000, 0, 1_200_000, 8, True, (
            Group("fans", ("fan-1", "fan-2", "fan-3"), 2),
            Group("safety", ("sis",)),
        )),
        LineSpec("l2", "Line 2", "p", 30000, 6, 0, None, False, (Group("PLC", ("plc-2",)),)),
    ]
    return PlantGraph(assets, lines)


def test_losing_a_lines_plc_stops_that_line_with_its_cost():
    result = plant().evaluate(["plc-1"])
    assert [(li.line.name, li.status) for li in result.lines] == [("Line 1", "stopped")]
    assert result.cost_per_hour == 40000
    assert result.trucks_per_day == 12


def test_line_stops_only_when_every_redundant_hmi_is_down():
    one = plant().evaluate(["hmi-a"])
    assert [(li.line.name, li.status) for li in one.lines] == [("Line 1", "redundancy_lost")]
    assert one.cost_per_hour == 0
    both = plant().evaluate(["hmi-a", "hmi-b"])
    assert both.lines[0].status == "stopped"
    assert both.lines[0].failed_groups[0].down == ["hmi-a", "hmi-b"]


def test_failure_propagates_through_asset_dependencies_with_the_chain():
    result = plant().evaluate(["core-a", "core-b"])
    assert result.down["plc-1"] == ["core-a", "sw-1", "plc-1"] or result.down["plc-1"] == ["core-b", "sw-1", "plc-1"]
    assert result.lines[0].line.name == "Line 1" and result.lines[0].status == "stopped"
    assert plant().evaluate(["core-a"]).lines == []  # the redundant core holds


def test_degrading_dependency_costs_its_capacity_share():
    result = plant().evaluate(["mes"])
    assert result.lines[0].status == "degraded"
    assert result.cost_per_hour == 10000
    assert result.trucks_per_day == 3


def test_k_of_n_group_and_spoilage_clock():
    one_fan = plant().evaluate(["fan-1"])
    assert one_fan.lines[0].status == "redundancy_lost"
    two_fans = plant().evaluate(["fan-1", "fan-2"], hours_down=3)
    cold = two_fans.lines[0]
    assert cold.status == "stopped"
    assert two_fans.perishable_value_at_risk == 1_200_000
    assert two_fans.hours_to_first_spoilage == 5
    assert two_fans.safety_critical


def test_stopped_lines_rank_before_degraded_and_unknown_assets_are_reported():
    result = plant().evaluate(["mes", "plc-2", "nope"])
    assert [(li.line.name, li.status) for li in result.lines] == [("Line 2", "stopped"), ("Line 1", "degraded")]
    assert result.unknown == ["nope"]


def test_cycles_in_asset_dependencies_terminate():
    assets = [
        AssetSpec("a", "a", "p", "server", (Group("b", ("b",)),)),
        AssetSpec("b", "b", "p", "server", (Group("a", ("a",)),)),
    ]
    graph = PlantGraph(assets, [LineSpec("l", "L", "p", 1, 0, 0, None, False, (Group("b", ("b",)),))])
    result = graph.evaluate(["a"])
    assert set(result.down) == {"a", "b"}
    assert result.lines[0].status == "stopped"
