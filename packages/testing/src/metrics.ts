/** The `name{labels} value` lines of a Prometheus /metrics body, as [labels, value] pairs. */
export function metricSeries(text: string, name: string): Array<[Record<string, string>, number]> {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`))
    .map((l) => {
      const m = /^[^{]+\{(.*)\} (\S+)$/.exec(l)!;
      const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
      return [labels, Number(m[2])];
    });
}
