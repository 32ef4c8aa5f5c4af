#!/usr/bin/env python3
"""Generates chat_template_jinja_cases.inc: template snippets rendered by the real Jinja2 3.1
(configured as Hugging Face transformers does, plus the `do` extension) so that the C++ test holds
our interpreter to Jinja2's output. Run: python3 chat_template_gen_cases.py > chat_template_jinja_cases.inc
"""
import json
import sys

import jinja2
import jinja2.ext

env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True,
                         extensions=[jinja2.ext.loopcontrols, jinja2.ext.do])


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                      sort_keys=sort_keys)


class TemplateError(Exception):
    pass


def raise_exception(message):
    raise TemplateError(message)


def strftime_now(fmt):
    import datetime
    return datetime.datetime(2026, 1, 15, 12, 0, 0).strftime(fmt)


env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception
env.globals["strftime_now"] = strftime_now

MSGS = [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "yo", "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1}}}]},
        {"role": "user", "content": None}]

# (name, template, context)
CASES = [
    # whitespace control
    ("ws_trim_blocks", "{% if true %}\nyes\n{% endif %}\nafter", {}),
    ("ws_lstrip_blocks", "a\n    {% if true %}\n    x\n    {% endif %}\nb", {}),
    ("ws_minus", "a   {{- 'b' -}}   c\n  {%- if true -%}  d  {%- endif -%}  e", {}),
    ("ws_plus_lstrip", "a\n    {%+ if true %}x{% endif %}", {}),
    ("ws_plus_trim", "{% if true +%}\nx{% endif %}", {}),
    ("ws_var_not_lstripped", "a\n   {{ 'x' }}\n", {}),
    ("ws_comment", "a\n  {# c #}\nb {#- c -#}   c", {}),
    ("ws_trailing_newline", "x\n", {}),
    ("ws_crlf", "a\r\n{% if true %}\r\nb\r\n{% endif %}\r\n", {}),
    ("ws_raw", "{% raw %}{{ not evaluated }}{% if %}{% endraw %}|{%- raw -%}  x  {%- endraw -%}  |", {}),
    ("ws_inline_tags", "  {% set x = 1 %}  {{ x }}", {}),
    # literals and operators
    ("lit_numbers", "{{ 1 }} {{ 1.5 }} {{ 1e3 }} {{ 1_000 }} {{ -3 }} {{ 0.1 + 0.2 }} {{ 1e-7 }} {{ 2.0 }}", {}),
    ("lit_strings", "{{ 'a\\nb' }}|{{ \"q'q\" }}|{{ 'x' 'y' }}|{{ '\\u00e9\\x41\\t' }}|{{ 'back\\\\slash' }}", {}),
    ("lit_containers", "{{ [1, 'a', none, true, 1.5] }}|{{ {'k': [2, {'n': none}]} }}|{{ (1, 2) }}|{{ (1,) }}|{{ () }}|{{ [] }}", {}),
    ("lit_repr_quotes", "{{ [\"it's\", 'say \"hi\"', 'both \\' \"', 'nl\\n'] }}", {}),
    ("arith", "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 4 / 2 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 7.5 // 2 }} {{ 1 + 2 * 3 - 4 }} {{ (1 + 2) * 3 }}", {}),
    ("arith_str", "{{ 'ab' * 3 }}|{{ 'a' + 'b' }}|{{ 1 ~ 'x' ~ none ~ true }}|{{ [1] + [2] }}|{{ [0] * 3 }}", {}),
    ("percent_format", "{{ '%s-%d-%05.2f-%%' % ('a', 3, 2.5) }}|{{ '%s' % 'x' }}|{{ '%s and %s'|format(1, 'b') }}", {}),
    ("compare", "{{ 1 < 2 }} {{ 2 <= 2 }} {{ 'a' < 'b' }} {{ 1 == 1.0 }} {{ true == 1 }} {{ [1,2] == [1,2] }} {{ {'a':1} == {'a':1} }} {{ 1 != 2 }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 5 }}", {}),
    ("in_notin", "{{ 'a' in 'cat' }} {{ 2 in [1,2] }} {{ 'k' in {'k':1} }} {{ 'z' not in 'cat' }} {{ 'x' in undefined_thing }} {{ not 'a' in 'b' }}", {}),
    ("logic", "{{ true and 'x' }}|{{ 0 or 'y' }}|{{ none or [] }}|{{ not none }}|{{ not [] }}|{{ '' and 1 }}|{{ 1 if 0 else 2 }}|{{ 'a' if 'b' }}|{{ 'no' if false }}", {}),
    ("truthiness", "{% for v in [0, 1, 0.0, '', 'a', [], [0], {}, {'a':1}, none, true] %}{{ 'T' if v else 'F' }}{% endfor %}", {}),
    # variables and access
    ("access", "{{ m.role }} {{ m['role'] }} {{ m.get('role') }} {{ m.get('x', 'dflt') }} {{ m.get('x') }} {{ l[0] }} {{ l[-1] }} {{ l.1 }} {{ m.nope }}|{{ l[10] }}|", {"m": {"role": "user"}, "l": [1, 2, 3]}),
    ("slicing", "{{ l[1:] }} {{ l[:-1] }} {{ l[::-1] }} {{ l[::2] }} {{ l[1:3] }} {{ s[::-1] }} {{ s[1:] }} {{ s[-2:] }} {{ l[5:] }} {{ l[-100:1] }} {{ s[:100] }}", {"l": [1, 2, 3, 4], "s": "héllo"}),
    ("string_index", "{{ s[0] }}{{ s[1] }}{{ s[-1] }}|{{ s|length }}", {"s": "é🦙x"}),
    ("undefined_print", "[{{ nothing }}][{{ nothing|length }}][{{ nothing is defined }}][{{ nothing is undefined }}][{{ m.x is defined }}][{{ nothing|default('d') }}][{{ ''|default('d') }}][{{ ''|default('d', true) }}][{{ none is none }}][{{ nothing == nothing }}]", {"m": {}}),
    ("undefined_iter", "{% for x in nothing %}{{ x }}{% else %}empty{% endfor %}|{{ nothing|list }}|{{ (nothing ~ 'x') }}", {}),
    ("none_attr", "[{{ m.c.x is defined }}][{{ m.c }}]", {"m": {"c": None}}),
    # tests
    ("tests_types", "{% for v in [1, 1.5, 'a', [1], {'a':1}, none, true] %}{{ v is number }}{{ v is integer }}{{ v is float }}{{ v is string }}{{ v is sequence }}{{ v is mapping }}{{ v is iterable }}{{ v is boolean }}{{ v is none }};{% endfor %}", {}),
    ("tests_values", "{{ 4 is even }}{{ 3 is odd }}{{ 9 is divisibleby 3 }}{{ 9 is divisibleby(4) }}{{ 'a' is equalto 'a' }}{{ 2 is eq 3 }}{{ true is true }}{{ 1 is true }}{{ false is false }}{{ 'abc' is lower }}{{ 'ABC' is upper }}{{ 2 is in [1,2] }}{{ 3 is gt 2 }}{{ 3 is ge 3 }}{{ 3 is lt 2 }}{{ 1 is ne 2 }}{{ none is sameas none }}{{ x is not defined }}", {}),
    # filters
    ("f_strings", "{{ '  a b  '|trim }}|{{ 'xxaxx'|trim('x') }}|{{ 'aBc'|upper }}|{{ 'aBc'|lower }}|{{ 'hello world-foo bar'|title }}|{{ 'hELLO'|capitalize }}|{{ 'a-b-a'|replace('a', 'c') }}|{{ 'aaa'|replace('a', 'b', 2) }}|{{ 'abc'|reverse }}|{{ 'one two  three'|wordcount }}|{{ 'x'|center(5) }}|", {}),
    ("f_numbers", "{{ -3|abs }} {{ 2.5|round }} {{ 3.5|round }} {{ 2.567|round(2) }} {{ 2.1|round(0, 'ceil') }} {{ 2.9|round(method='floor') }} {{ 3|round }} {{ '42'|int }} {{ '4.7'|int }} {{ 'x'|int }} {{ 'x'|int(7) }} {{ 3.9|int }} {{ '2.5'|float }} {{ 3|float }} {{ 'a'|float }} {{ true|int }}", {}),
    ("f_lists", "{{ l|length }} {{ l|count }} {{ l|first }} {{ l|last }} {{ l|join(',') }} {{ l|join }} {{ l|sort }} {{ l|sort(reverse=true) }} {{ l|unique|list }} {{ l|reverse|list }} {{ l|min }} {{ l|max }} {{ l|sum }} {{ l|list }} {{ 'ab'|list }} {{ l|select('odd')|list }} {{ l|reject('odd')|list }} {{ l|select|list }} {{ l|map('string')|join('-') }}", {"l": [3, 1, 2, 3, 0]}),
    ("f_sort_strings", "{{ ['b', 'A', 'a', 'C']|sort }}|{{ ['b', 'A', 'a', 'C']|sort(case_sensitive=true) }}|{{ ['b', 'B', 'a']|unique|list }}|{{ ['b', 'A']|max }}", {}),
    ("f_attrs", "{{ msgs|selectattr('role', 'equalto', 'user')|list|length }}|{{ msgs|rejectattr('role', 'eq', 'user')|map(attribute='role')|join(',') }}|{{ msgs|map(attribute='content')|list }}|{{ msgs|selectattr('tool_calls')|list|length }}|{{ msgs|selectattr('tool_calls', 'defined')|map(attribute='tool_calls.0.function.name')|first }}|{{ msgs|map(attribute='nope', default='d')|list }}|{{ msgs|sort(attribute='role')|map(attribute='role')|join(',') }}|{{ msgs|join(', ', attribute='role') }}", {"msgs": MSGS}),
    ("f_dicts", "{{ d|items|list }}|{% for k, v in d|items %}{{ k }}={{ v }};{% endfor %}|{{ d|dictsort }}|{{ d|length }}|{{ d|list }}|{{ d|first }}", {"d": {"b": 1, "a": 2}}),
    ("f_tojson", "{{ d|tojson }}|{{ d|tojson(indent=2) }}|{{ [1, 'é', none, true, 1.5, '\"q\"\\n']|tojson }}|{{ d|tojson(sort_keys=true) }}|{{ {}|tojson(indent=2) }}|{{ []|tojson(indent=2) }}|{{ 'é'|tojson(ensure_ascii=true) }}|{{ d|tojson(separators=(',', ':')) }}|{{ {'a': [1, {'b': []}]}|tojson(indent=4) }}|{{ {'z': 1, 'a': 2}|tojson }}|{{ {'z': 1, 'a': 2}|tojson(sort_keys=true) }}", {"d": {"z": 1, "a": [1, 2], "n": None, "f": 2.0}}),
    ("f_indent", "{{ 'a\\nb\\n\\nc'|indent }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(2, blank=true) }}|{{ 'a\\nb'|indent('> ') }}", {}),
    ("f_escape", "{{ '<a href=\"x\">&\\'</a>'|e }}|{{ '<b>'|safe }}|{{ 5|string }}|{{ none|string }}|{{ [1]|string }}", {}),
    ("f_misc", "{{ 'abcdefghijklmnop qrstuvwxyz'|truncate(10) }}|{{ 'hello'|truncate(3, true) }}|{{ [1, 2]|map('string')|map('upper')|list }}|{{ '%s!'|format('hi') }}|{{ m|attr('role') }}|{{ 'aXb'|lower|upper }}", {"m": {"role": "r"}}),
    # string methods
    ("m_strings", "{{ s.startswith('He') }} {{ s.endswith('lo') }} {{ s.startswith(('x', 'H')) }} {{ '  x '.strip() }}| {{ 'xxaxx'.lstrip('x') }} {{ 'xxaxx'.rstrip('x') }} {{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a b c'.split(' ', 1) }} {{ 'a b c'.rsplit(' ', 1) }} {{ s.upper() }} {{ s.lower() }} {{ 'hello wORLD'.title() }} {{ 'hELLO'.capitalize() }} {{ s.replace('l', 'L') }} {{ s.find('l') }} {{ s.find('z') }} {{ s.rfind('l') }} {{ s.count('l') }} {{ '-'.join(['a', 'b']) }} {{ '12'.isdigit() }} {{ 'ab'.isalpha() }} {{ 'a\\nb'.splitlines() }} {{ '7'.zfill(3) }}", {"s": "Hello"}),
    ("m_format", "{{ '{} and {}'.format('a', 1) }}|{{ '{1}{0}'.format('a', 'b') }}|{{ '{name}!'.format(name='x') }}|{{ '{{}}{}'.format(3) }}|{{ '{!r}'.format('q') }}", {}),
    ("m_dicts", "{{ d.keys()|list }} {{ d.values()|list }} {{ d.items()|list }} {% for k, v in d.items() %}{{ k }}{{ v }}{% endfor %} {{ d.get('a') }} {{ d.get('z', 0) }} {{ d['a'] }}", {"d": {"a": 1, "b": 2}}),
    ("m_lists", "{% set l = [1, 2] %}{% do l.append(3) %}{% do l.extend([4, 5]) %}{{ l }} {{ l.index(3) }} {{ l.count(2) }} {{ l.pop() }} {{ l }} {% do l.insert(0, 0) %}{{ l }}", {}),
    # loops
    ("loop_vars", "{% for x in ['a', 'b', 'c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.previtem }}{{ loop.nextitem }}{{ loop.cycle('o', 'e') }};{% endfor %}", {}),
    ("loop_filter", "{% for x in range(10) if x is odd %}{{ x }}{{ ',' if not loop.last }}{% endfor %}|{% for x in [] %}x{% else %}none{% endfor %}", {}),
    ("loop_unpack", "{% for a, b in [[1, 2], (3, 4)] %}{{ a }}-{{ b }};{% endfor %}{% for k, v in {'x': 1}.items() %}{{ k }}{{ v }}{% endfor %}", {}),
    ("loop_nested", "{% for i in range(3) %}{% for j in range(i) %}{{ i }}{{ j }}{{ loop.index }} {% endfor %}{{ loop.index }}|{% endfor %}", {}),
    ("loop_break_continue", "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %}", {}),
    ("loop_scope", "{% set x = 'outer' %}{% for i in [1, 2] %}{{ x }}{% set x = 'inner' %}{{ x }};{% endfor %}{{ x }}", {}),
    ("loop_dict_string", "{% for k in {'a': 1, 'b': 2} %}{{ k }}{% endfor %}|{% for c in 'hé' %}[{{ c }}]{% endfor %}", {}),
    ("range_forms", "{{ range(3)|list }} {{ range(1, 4)|list }} {{ range(10, 0, -3)|list }} {{ range(0)|list }}", {}),
    # if / set / namespace
    ("if_elif", "{% for n in [1, 2, 3] %}{% if n == 1 %}one{% elif n == 2 %}two{% else %}many{% endif %} {% endfor %}", {}),
    ("set_forms", "{% set a = 1 %}{% set b, c = 2, 3 %}{% set t = 1, 2 %}{{ a }}{{ b }}{{ c }}{{ t }}{% set blk %}x {{ a }} y{% endset %}[{{ blk }}]{% set up | upper %}shout{% endset %}{{ up }}", {}),
    ("namespace", "{% set ns = namespace(count=0, found=false) %}{% for m in msgs %}{% if m.role == 'user' %}{% set ns.count = ns.count + 1 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.count }} {{ ns.found }}{% set ns2 = namespace() %}{% set ns2.x = 'y' %}{{ ns2.x }}", {"msgs": MSGS}),
    ("if_set_leaks", "{% if true %}{% set y = 5 %}{% endif %}{{ y }}", {}),
    # macros and call blocks
    ("macro_basic", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('a') }} {{ greet('b', '?') }} {{ greet(name='c', punct='.') }} {{ greet('d', punct=';') }}", {}),
    ("macro_globals", "{% set g = 'G' %}{% macro m() %}{{ g }}{{ bos_token }}{% endmacro %}{{ m() }}", {"bos_token": "<s>"}),
    ("macro_recursive", "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * (fact(n - 1)|int) }}{% endif %}{% endmacro %}{{ fact(5) }}", {}),
    ("macro_render_json", "{%- macro render(v) -%}{%- if v is mapping -%}{ {%- for k, x in v.items() -%}{{ k }}: {{ render(x) }}{{ ', ' if not loop.last }}{%- endfor -%} }{%- elif v is string -%}'{{ v }}'{%- else -%}{{ v }}{%- endif -%}{%- endmacro -%}{{ render({'a': {'b': 'c'}, 'd': 1}) }}", {}),
    ("call_block", "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}inside {{ 1 + 1 }}{% endcall %}", {}),
    ("call_block_args", "{% macro each(items) %}{% for i in items %}{{ caller(i) }}{% endfor %}{% endmacro %}{% call(x) each([1, 2]) %}[{{ x }}]{% endcall %}", {}),
    ("filter_block", "{% filter upper %}abc {{ 'd' }}{% endfilter %}|{% filter trim|upper %}  x  {% endfilter %}", {}),
    # HF globals
    ("strftime", "{{ strftime_now('%Y-%m-%d') }} {{ strftime_now('%d %b %Y') }} {{ strftime_now('%B %d, %Y') }}", {}),
    ("messages_loop", "{% for m in messages %}{{ m.role }}:{{ m.content if m.content is string else '' }}{% if m.tool_calls %}[{{ m.tool_calls[0].function.arguments|tojson }}]{% endif %}\n{% endfor %}", {"messages": MSGS}),
    ("dict_global", "{{ dict(a=1, b='x') }}|{{ dict(a=1)|tojson }}", {}),
]


def cpp_str(s):
    # A C++ string literal that holds s exactly (UTF-8 bytes, escaped).
    out = '"'
    for b in s.encode("utf-8"):
        c = chr(b)
        if c == '"':
            out += '\\"'
        elif c == '\\':
            out += '\\\\'
        elif c == '\n':
            out += '\\n'
        elif c == '\r':
            out += '\\r'
        elif c == '\t':
            out += '\\t'
        elif 32 <= b < 127:
            out += c
        else:
            out += '\\%03o' % b
    return out + '"'


def main():
    print("// Generated by chat_template_gen_cases.py from Jinja2 %s; do not edit." % jinja2.__version__)
    print("// {name, template, context JSON, expected output}")
    for name, src, ctx in CASES:
        # The C++ side receives nlohmann::json, whose objects iterate in key order.
        ctx = json.loads(json.dumps(ctx, sort_keys=True))
        try:
            expected = env.from_string(src).render(**ctx)
        except Exception as e:  # noqa: BLE001
            sys.exit("case %s failed in Jinja2: %s" % (name, e))
        print("{%s,\n %s,\n %s,\n %s}," % (cpp_str(name), cpp_str(src), cpp_str(json.dumps(ctx)), cpp_str(expected)))


if __name__ == "__main__":
    main()
