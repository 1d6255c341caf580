"""medspaCy 1.3.1's ConTextGraph with the same results in less time.

The stock graph compares every modifier with every modifier (`update_scopes`) and every target with
every modifier (`apply_modifiers`) through method calls and properties: ~1,900 `modifies` and ~1,500
`limit_scope` calls per note, about half of ConText's time. Here:

- `update_scopes` tests the same `tuple_overlaps` condition inline on the current scopes, in the same
  order, and calls `limit_scope` only when it holds (otherwise `limit_scope` returns at once);
- `apply_modifiers` offers each modifier only the targets its scope can reach (targets are the doc's
  entities: sorted, not overlapping, so the targets that `tuple_overlaps` the scope form two index
  ranges found by bisection), and calls `modify` in the stock order (by target, then modifier).

Everything else (pruning, `max_targets`, edges) is the stock code path. Built by our ConText
(pipeline/context/context.py); `tests/pipeline/test_context_graph.py` compares it with the stock graph.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from itertools import pairwise

from medspacy.context.context_graph import ConTextGraph


def _sorted_disjoint(spans: list[tuple[int, int]]) -> bool:
    return all(a[1] <= b[0] for a, b in pairwise(spans)) and all(s < e for s, e in spans)


# a PSEUDO category that only ends the scope of rules naming it in terminated_by (patterns/context.json):
# it limits no other rule, so it is compared only with those rules (commas are frequent: all-pairs is costly)
CLAUSE_END = "CLAUSE_END"


class FastConTextGraph(ConTextGraph):
    def update_scopes(self) -> None:
        ends = [m for m in self.modifiers if m.category == CLAUSE_END]
        modifiers = [m for m in self.modifiers if m.category != CLAUSE_END] if ends else self.modifiers
        for first in modifiers:
            if CLAUSE_END not in first.rule.terminated_by:
                continue
            for second in ends:
                a0, a1, b0, b1 = first._scope_start, first._scope_end, second._scope_start, second._scope_end
                if a0 <= b0 < a1 or a0 < b1 <= a1:
                    first.limit_scope(second)
        for i in range(len(modifiers) - 1):
            first = modifiers[i]
            for j in range(i + 1, len(modifiers)):
                second = modifiers[j]
                # tuple_overlaps(first.scope_span, second.scope_span), as limit_scope tests it first
                a0, a1, b0, b1 = first._scope_start, first._scope_end, second._scope_start, second._scope_end
                if a0 <= b0 < a1 or a0 < b1 <= a1:
                    first.limit_scope(second)
                a0, a1, b0, b1 = second._scope_start, second._scope_end, first._scope_start, first._scope_end
                if a0 <= b0 < a1 or a0 < b1 <= a1:
                    second.limit_scope(first)

    def apply_modifiers(self) -> None:
        spans = [(target.start, target.end) for target in self.targets]
        if not _sorted_disjoint(spans):  # not the doc's entities: the stock all-pairs loop
            super().apply_modifiers()
            return
        if self.prune_on_modifier_overlap:
            for i in range(len(self.modifiers) - 1, -1, -1):
                m0, m1 = self.modifiers[i].modifier_span
                # any target with tuple_overlaps((t0, t1), (m0, m1)): t0 <= m0 < t1 or t0 < m1 <= t1
                if _reaching(spans, m0, m1):
                    self.modifiers.pop(i)
        starts = [s for s, _ in spans]
        ends = [e for _, e in spans]
        pairs: list[tuple[int, int]] = []
        for m, modifier in enumerate(self.modifiers):
            s0, s1 = modifier._scope_start, modifier._scope_end
            if s0 >= s1:
                continue  # tuple_overlaps(scope, target) needs s0 < s1
            # tuple_overlaps(scope, target): s0 <= t0 < s1 or s0 < t1 <= s1
            by_start = range(bisect_left(starts, s0), bisect_left(starts, s1))
            by_end = range(bisect_right(ends, s0), bisect_right(ends, s1))
            for t in sorted(set(by_start) | set(by_end)):
                pairs.append((t, m))
        pairs.sort()
        for t, m in pairs:
            modifier, target = self.modifiers[m], self.targets[t]
            if modifier.modifies(target):
                modifier.modify(target)
        edges = []
        for modifier in self.modifiers:
            modifier.reduce_targets()
            for target in modifier._targets:
                edges.append((target, modifier))
        self.edges = edges


def _reaching(spans: list[tuple[int, int]], m0: int, m1: int) -> bool:
    """Whether some target (t0, t1) has t0 <= m0 < t1 or t0 < m1 <= t1. Spans are sorted and disjoint,
    so of the targets starting at or before a point, the last one reaches furthest."""
    starts = [s for s, _ in spans]
    k = bisect_right(starts, m0) - 1
    if k >= 0 and m0 < spans[k][1]:
        return True
    k = bisect_left(starts, m1) - 1
    return k >= 0 and m1 <= spans[k][1]
