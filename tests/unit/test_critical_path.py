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


def test_dbt_queues_the_longest_chain_first_once_scheduled(tmp_path, monkeypatch):
    from dbt.graph.queue import GraphQueue
    from dbt.task.build import BuildTask

    from label_overview import critical_path

    # dbt's own methods go back in place after the test.
    monkeypatch.setattr(GraphQueue, "_get_scores", GraphQueue._get_scores)
    monkeypatch.setattr(BuildTask, "handle_job_queue", BuildTask.handle_job_queue)
    dbt_handle_job_queue = BuildTask.handle_job_queue
    timings = {"m.a_view": 0.1, "m.b_view": 0.1, "m.s_stage": 0.1, "m.t_fact": 4.0}
    (tmp_path / "run_results.json").write_text(
        json.dumps({"results": [{"unique_id": n, "execution_time": s} for n, s in timings.items()]})
    )
    graph = nx.DiGraph([("m.a_view", "m.dim"), ("m.b_view", "m.dim"), ("m.s_stage", "m.t_fact")])

    # dbt's own order: the graph's depth, then the name.
    assert GraphQueue(graph.copy(), None, set(graph)).inner.get()[1] == "m.a_view"
    critical_path.schedule(tmp_path)
    assert GraphQueue(graph.copy(), None, set(graph)).inner.get()[1] == "m.s_stage"
    assert BuildTask.handle_job_queue is not dbt_handle_job_queue
