"""Maximum flow (Dinic) and feasible flow with lower bounds, in pure Python (no I/O, no packages).

:class:`LowerBoundFlow` takes edges ``(u, v, low, cap)`` and decides whether a circulation exists
that puts between ``low`` and ``cap`` units on every edge and conserves flow at every node (add an
edge sink -> source of capacity "infinite" to turn an s-t flow into a circulation). The standard
reduction: an edge ``(u, v, l, c)`` becomes ``(u, v, 0, c - l)`` and ``l`` units of demand move to
the ends (``v`` receives ``l``, ``u`` owes ``l``); a super source feeds every node its surplus and a
super sink drains every deficit; a feasible circulation exists iff the maximum flow from the super
source saturates every one of those edges (Hoffman's circulation theorem; Ahuja, Magnanti, Orlin,
"Network Flows", 6.7). Integer bounds give an integer flow (Dinic augments integers).
"""
from __future__ import annotations

from collections import deque


class MaxFlow:
    """Dinic's algorithm over an adjacency list of paired edges (edge ``e``'s reverse is ``e ^ 1``)."""

    def __init__(self, nodes: int) -> None:
        self.adj: list[list[int]] = [[] for _ in range(nodes)]
        self.to: list[int] = []
        self.cap: list[int] = []

    def add(self, u: int, v: int, cap: int) -> int:
        self.adj[u].append(len(self.to))
        self.to.append(v)
        self.cap.append(cap)
        self.adj[v].append(len(self.to))
        self.to.append(u)
        self.cap.append(0)
        return len(self.to) - 2

    def flow_on(self, edge: int) -> int:
        return self.cap[edge ^ 1]

    def _levels(self, s: int, t: int) -> list[int] | None:
        level = [-1] * len(self.adj)
        level[s] = 0
        queue = deque([s])
        while queue:
            v = queue.popleft()
            for e in self.adj[v]:
                w = self.to[e]
                if self.cap[e] > 0 and level[w] < 0:
                    level[w] = level[v] + 1
                    queue.append(w)
        return level if level[t] >= 0 else None

    def _augment(self, s: int, t: int, level: list[int], it: list[int]) -> int:
        """One augmenting path in the level graph (iterative, so deep graphs need no recursion)."""
        stack, path = [s], []
        adj, to, cap = self.adj, self.to, self.cap
        while stack:
            v = stack[-1]
            if v == t:
                pushed = min(cap[e] for e in path)
                for e in path:
                    cap[e] -= pushed
                    cap[e ^ 1] += pushed
                return pushed
            edges = adj[v]
            while it[v] < len(edges):
                e = edges[it[v]]
                if cap[e] > 0 and level[to[e]] == level[v] + 1:
                    break
                it[v] += 1
            if it[v] < len(edges):
                e = edges[it[v]]
                stack.append(to[e])
                path.append(e)
                continue
            stack.pop()
            if path:
                path.pop()
                it[stack[-1]] += 1
        return 0

    def run(self, s: int, t: int) -> int:
        total = 0
        while (level := self._levels(s, t)) is not None:
            it = [0] * len(self.adj)
            while pushed := self._augment(s, t, level, it):
                total += pushed
        return total


class LowerBoundFlow:
    """A circulation with ``low <= flow <= cap`` on each edge, if one exists (:meth:`solve`)."""

    def __init__(self, nodes: int) -> None:
        self.nodes = nodes
        self.graph = MaxFlow(nodes + 2)
        self.source, self.sink = nodes, nodes + 1
        self.excess = [0] * nodes
        self.low: list[int] = []
        self.edges: list[int] = []
        self.demand_edges: dict[int, int] = {}  # node -> its edge from the super source or to the super sink

    def add(self, u: int, v: int, low: int, cap: int) -> int:
        """Edge ``u -> v`` with bounds ``[low, cap]``; returns its handle for :meth:`flow_on`."""
        if low > cap:
            raise ValueError("lower bound above capacity")
        self.edges.append(self.graph.add(u, v, cap - low))
        self.low.append(low)
        self.excess[v] += low
        self.excess[u] -= low
        return len(self.edges) - 1

    def solve(self) -> bool:
        need = 0
        for node, ex in enumerate(self.excess):
            if ex > 0:
                self.demand_edges[node] = self.graph.add(self.source, node, ex)
                need += ex
            elif ex < 0:
                self.demand_edges[node] = self.graph.add(node, self.sink, -ex)
        return self.graph.run(self.source, self.sink) == need

    def maximize(self, s: int, t: int, back: int) -> None:
        """After a feasible :meth:`solve`: the most flow from ``s`` to ``t`` within the bounds.
        ``back`` is the edge ``t -> s`` that closed the circulation: it is taken out (its flow
        stays counted) and augmenting paths from ``s`` to ``t`` in the residual graph are added;
        the super source and sink are dead ends (their edges are saturated), so every bound holds."""
        g, e = self.graph, self.edges[back]
        self.low[back] += g.cap[e ^ 1]
        g.cap[e] = g.cap[e ^ 1] = 0
        self.low[back] += g.run(s, t)

    def flow_on(self, handle: int) -> int:
        return self.low[handle] + self.graph.flow_on(self.edges[handle])

    def unmet(self) -> list[int]:
        """After an infeasible :meth:`solve`: the nodes whose demand or surplus was not met."""
        g = self.graph
        return sorted(n for n, e in self.demand_edges.items() if g.cap[e] > 0)
