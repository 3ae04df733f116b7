import sys

try:
    text = open("answer.txt").read().strip().strip("`'\"")
except FileNotFoundError:
    sys.exit("answer.txt does not exist")
if text.removeprefix("./") != "ratelimit/strategies/refill.py":
    sys.exit(f"answer.txt says {text!r}; expected ratelimit/strategies/refill.py")
