"""Templates written to take a server down: what the renderer's limits are tested with."""

LOOPS_FOR_EVER = (
    "{% set r = range(100000) %}{% for a in r %}{% for b in r %}{% for c in r %}{% endfor %}{% endfor %}{% endfor %}"
)
TWO_LOOPS = "{% for i in range(20000) %}{% for j in range(20000) %}{% endfor %}{% endfor %}"
HUGE_LIST = "{{ [1] * 10**8 }}"
HUGE_PADDING = "{{ 'x' | center(2 * 10**9) }}"  # a filter, not an operator: only the memory limit stops it
RECURSES = "{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}<p>{{ m(1) }}</p>"
RECURSES_FOR_VIPS = (
    "{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{% if vip %}{{ m(1) }}{% endif %}<p>Hi {{ first_name }}</p>"
)
NESTED = "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}"
LONG_CHAIN = "{{ a" + ".b" * 499_990 + " }}"  # 1,000,000 characters that took the parser 4 s
