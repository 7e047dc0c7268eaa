"""The one topological sort."""

from accelsim.graph import topological_order


def test_every_node_comes_after_its_predecessors_lowest_index_first():
    # 0 <- 2, 1 <- 2, 3 free: ready at start are 2 and 3 -> 2 first, then 0, 1 (freed), 3
    assert topological_order([[2], [2], [], []]) == ([2, 0, 1, 3], [])


def test_priority_orders_the_ready_nodes():
    stage = [1, 0, 0]
    assert topological_order([[], [], [1]], lambda i: stage[i]) == ([1, 2, 0], [])


def test_nodes_on_a_cycle_are_left_over():
    # 1 and 2 wait on each other; 3 waits on 2; 0 is free
    assert topological_order([[], [2], [1], [2]]) == ([0], [1, 2, 3])
