class Gradebook:
    def __init__(self):
        self.scores = {}

    def record(self, student, score):
        if not 0 <= score <= 100:
            raise ValueError("score out of range")
        self.scores.setdefault(student, []).append(score)

    def average(self, student):
        s = self.scores[student]
        return round(sum(s) / len(s), 1)

    def letter(self, student):
        avg = self.average(student)
        for bound, letter in ((90, "A"), (80, "B"), (70, "C"), (60, "D")):
            if avg >= bound:
                return letter
        return "F"

    def ranking(self):
        return sorted(self.scores, key=lambda s: (-self.average(s), s))
