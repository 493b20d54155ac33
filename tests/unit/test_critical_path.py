"""The order dbt build runs nodes in: the longest remaining chain of work first."""

import json

import networkx as nx

from label_overview.critical_path import UNKNOWN_NODE_S, previous_seconds, remaining_work


def test_the_longest_chain_of_work_ranks_first():
    graph = nx.DiGraph(
        [("view_a", "big_fact"), ("big_fact", "counts"), ("view_b", "dim"), ("view_a", "dim")]
    )
    seconds = {"view_a": 0.5, "view_b": 0.5, "big_fact": 4.0, "counts": 3.0, "dim": 0.25}
    scores = remaining_work(graph, seconds)
    assert scores == {
        "counts": -3.0,
        "big_fact": -7.0,
        "view_a": -7.5,
        "dim": -0.25,
        "view_b": -0.75,
    }
    # Ready together, view_a's chain goes before view_b's; ready later, big_fact before dim.
    assert sorted(graph, key=scores.get) == ["view_a", "big_fact", "counts", "view_b", "dim"]


def test_nodes_without_a_previous_time_count_alike(tmp_path):
    assert previous_seconds(tmp_path / "run_results.json") == {}
    graph = nx.DiGraph([("a", "b"), ("b", "c"), ("d", "c")])
    assert remaining_work(graph, {})["a"] == -3 * UNKNOWN_NODE_S


def test_previous_seconds_read_from_run_results(tmp_path):
    path = tmp_path / "run_results.json"
    path.write_text(json.dumps({"results": [{"unique_id": "model.p.a", "execution_time": 1.5}]}))
    assert previous_seconds(path) == {"model.p.a": 1.5}
    path.write_text("{")
    assert previous_seconds(path) == {}
