"""Known shape for Python stacks (issue 16 item 4): RSS grows in Builder.fill, called by
build_index, called by main. Nothing imported from memobs."""
import sys


class Builder:
    def __init__(self):
        self.rows = []

    def fill(self, n):
        for i in range(n):
            self.rows.append(bytearray(1024))  # RSS grows here
        return len(self.rows)


def build_index(n):
    return Builder().fill(n)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 65536
    build_index(n)


if __name__ == "__main__":
    main()
