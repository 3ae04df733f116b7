def render_table(rows):
    total_q = sum(q for _, q, _ in rows)
    total_p = sum(q * p for _, q, p in rows)
    body = [(n, str(q), f"{p:.2f}") for n, q, p in rows]
    foot = ("Total", str(total_q), f"{total_p:.2f}")
    head = ("Item", "Qty", "Price")
    w = [max(len(r[i]) for r in [head, foot, *body]) for i in range(3)]

    def line(r):
        return f"{r[0]:<{w[0]}} | {r[1]:>{w[1]}} | {r[2]:>{w[2]}}"

    rule = "-+-".join("-" * x for x in w)
    out = [line(head), rule, *(line(r) for r in body)]
    if body:
        out.append(rule)
    out.append(line(foot))
    return "\n".join(out)
