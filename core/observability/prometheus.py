"""A small metrics registry (counters, gauges, histograms with labels) in Prometheus text format."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

LabelValues = tuple[str, ...]

DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
                   120.0, 300.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _format_labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{n}="{_escape(str(v))}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _format_value(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


class _Metric:
    kind = "untyped"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()):
        self.name = name
        self.help = help_text
        self.label_names = tuple(labels)

    def _key(self, labels: dict[str, str]) -> LabelValues:
        if set(labels) != set(self.label_names):
            raise ValueError(f"{self.name} takes labels {self.label_names}, got {tuple(labels)}")
        return tuple(str(labels[n]) for n in self.label_names)

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]

    def samples(self) -> Iterable[str]:
        raise NotImplementedError


class Counter(_Metric):
    kind = "counter"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()):
        super().__init__(name, help_text, labels)
        self._values: dict[LabelValues, float] = {}

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        key = self._key(labels)
        self._values[key] = self._values.get(key, 0.0) + amount

    def value(self, **labels: str) -> float:
        return self._values.get(self._key(labels), 0.0)

    def samples(self) -> Iterable[str]:
        for key, value in sorted(self._values.items()):
            yield f"{self.name}{_format_labels(self.label_names, key)} {_format_value(value)}"


class Gauge(_Metric):
    """A gauge set directly or read from ``source`` (label values -> value) at render time."""

    kind = "gauge"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = (),
                 source: Callable[[], dict[LabelValues, float]] | None = None):
        super().__init__(name, help_text, labels)
        self._values: dict[LabelValues, float] = {}
        self._source = source

    def set(self, value: float, **labels: str) -> None:
        self._values[self._key(labels)] = value

    def value(self, **labels: str) -> float:
        values = self._source() if self._source else self._values
        return values.get(self._key(labels), 0.0)

    def samples(self) -> Iterable[str]:
        values = self._source() if self._source else self._values
        for key, value in sorted(values.items()):
            yield f"{self.name}{_format_labels(self.label_names, key)} {_format_value(value)}"


class Histogram(_Metric):
    kind = "histogram"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = (),
                 buckets: Sequence[float] = DEFAULT_BUCKETS):
        super().__init__(name, help_text, labels)
        self.buckets = tuple(sorted(buckets))
        self._counts: dict[LabelValues, list[int]] = {}
        self._sums: dict[LabelValues, float] = {}

    def observe(self, value: float, **labels: str) -> None:
        key = self._key(labels)
        counts = self._counts.setdefault(key, [0] * (len(self.buckets) + 1))
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                counts[i] += 1
        counts[-1] += 1
        self._sums[key] = self._sums.get(key, 0.0) + value

    def count(self, **labels: str) -> int:
        counts = self._counts.get(self._key(labels))
        return counts[-1] if counts else 0

    def samples(self) -> Iterable[str]:
        for key in sorted(self._counts):
            counts = self._counts[key]
            for bound, count in zip(self.buckets, counts, strict=False):
                le = f'le="{_format_value(bound)}"'
                yield f"{self.name}_bucket{_format_labels(self.label_names, key, le)} {count}"
            inf = 'le="+Inf"'
            yield f"{self.name}_bucket{_format_labels(self.label_names, key, inf)} {counts[-1]}"
            yield f"{self.name}_sum{_format_labels(self.label_names, key)} {_format_value(self._sums[key])}"
            yield f"{self.name}_count{_format_labels(self.label_names, key)} {counts[-1]}"


class MetricsRegistry:
    """Holds metrics by name and renders them all in the Prometheus text exposition format."""

    def __init__(self) -> None:
        self._metrics: dict[str, _Metric] = {}

    def _register(self, metric: _Metric) -> _Metric:
        if metric.name in self._metrics:
            raise ValueError(f"metric {metric.name} is already registered")
        self._metrics[metric.name] = metric
        return metric

    def counter(self, name: str, help_text: str, labels: Sequence[str] = ()) -> Counter:
        metric = self._register(Counter(name, help_text, labels))
        assert isinstance(metric, Counter)
        return metric

    def gauge(self, name: str, help_text: str, labels: Sequence[str] = (),
              source: Callable[[], dict[LabelValues, float]] | None = None) -> Gauge:
        metric = self._register(Gauge(name, help_text, labels, source))
        assert isinstance(metric, Gauge)
        return metric

    def histogram(self, name: str, help_text: str, labels: Sequence[str] = (),
                  buckets: Sequence[float] = DEFAULT_BUCKETS) -> Histogram:
        metric = self._register(Histogram(name, help_text, labels, buckets))
        assert isinstance(metric, Histogram)
        return metric

    def render(self) -> str:
        lines: list[str] = []
        for name in sorted(self._metrics):
            metric = self._metrics[name]
            lines.extend(metric.header())
            lines.extend(metric.samples())
        return "\n".join(lines) + "\n"
