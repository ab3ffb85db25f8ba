"""Regenerate traps.json: target/validate-venv/bin/python tests/data/yaml/gen.py
(uses k8syaml.py from ../shared/validate, or $K8SYAML_DIR)."""
import json, os, sys
_repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.environ.get('K8SYAML_DIR', os.path.join(os.path.dirname(_repo), 'shared', 'validate')))
import k8syaml

here = os.path.dirname(os.path.abspath(__file__))


def chunks(text):
    out, cur = [], []
    for line in text.splitlines(keepends=True):
        if line.startswith('---') and (len(line) == 3 or line[3] in ' \t\r\n'):
            out.append(''.join(cur))
            cur = [line]
        else:
            cur.append(line)
    out.append(''.join(cur))
    return out


def load(text):
    docs, fatal = k8syaml.load_stream(text)
    assert fatal is None, fatal
    assert all(not d.errors for d in docs), [d.errors for d in docs]
    return docs[0].data if docs else None


if __name__ == '__main__':
    if len(sys.argv) > 1:  # print the meaning of one document given on stdin
        print(json.dumps(load(sys.stdin.read())))
    else:
        text = open(os.path.join(here, 'traps.yaml')).read()
        json.dump([load(c) for c in chunks(text)], open(os.path.join(here, 'traps.json'), 'w'), indent=1)
