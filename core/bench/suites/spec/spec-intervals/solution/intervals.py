def merge(bookings):
    out = []
    for start, end in sorted(bookings):
        if start >= end:
            raise ValueError(f"empty interval {(start, end)}")
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def free(bookings, day_start, day_end):
    gaps, cursor = [], day_start
    for start, end in merge(bookings):
        start, end = max(start, day_start), min(end, day_end)
        if start >= end:
            continue
        if start > cursor:
            gaps.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < day_end:
        gaps.append((cursor, day_end))
    return gaps
