#!/usr/bin/env python3
"""Generates chat_template_jinja_cases.inc: templates and snippets rendered by the real Jinja2 3.1
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


# ---- model-style templates (Qwen3, Gemma 3, Llama 3.1 shapes) rendered over tool-calling chats
CHAT = [{"role": "system", "content": "You are helpful."}, {"role": "user", "content": "Hi there"},
     {"role": "assistant", "content": "<think>\nreason\n</think>\n\nHello!", "reasoning_content": "reason"},
     {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1234", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "c"}}}]},
     {"role": "tool", "content": "{\"temp\": 20}", "tool_call_id": "call_1234"},
     {"role": "user", "content": [{"type": "text", "text": "look"}, {"type": "image"}]}]
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Get weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
QWEN3 = r"""{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0].role == 'system' %}
        {{- messages[0].content + '\n\n' }}
    {%- endif %}
    {{- "# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0].role == 'system' %}
        {{- '<|im_start|>system\n' + messages[0].content + '<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}
{%- for message in messages[::-1] %}
    {%- set index = (messages|length - 1) - loop.index0 %}
    {%- if ns.multi_step_tool and message.role == "user" and message.content is string and not(message.content.startswith('<tool_response>') and message.content.endswith('</tool_response>')) %}
        {%- set ns.multi_step_tool = false %}
        {%- set ns.last_query_index = index %}
    {%- endif %}
{%- endfor %}
{%- for message in messages %}
    {%- if message.content is string %}
        {%- set content = message.content %}
    {%- else %}
        {%- set content = '' %}
    {%- endif %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) %}
        {{- '<|im_start|>' + message.role + '\n' + content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {%- set reasoning_content = '' %}
        {%- if message.reasoning_content is string %}
            {%- set reasoning_content = message.reasoning_content %}
        {%- else %}
            {%- if '</think>' in content %}
                {%- set reasoning_content = content.split('</think>')[0].rstrip('\n').split('<think>')[-1].lstrip('\n') %}
                {%- set content = content.split('</think>')[-1].lstrip('\n') %}
            {%- endif %}
        {%- endif %}
        {%- if loop.index0 > ns.last_query_index %}
            {%- if loop.last or (not loop.last and reasoning_content) %}
                {{- '<|im_start|>' + message.role + '\n<think>\n' + reasoning_content.strip('\n') + '\n</think>\n\n' + content.lstrip('\n') }}
            {%- else %}
                {{- '<|im_start|>' + message.role + '\n' + content }}
            {%- endif %}
        {%- else %}
            {{- '<|im_start|>' + message.role + '\n' + content }}
        {%- endif %}
        {%- if message.tool_calls %}
            {%- for tool_call in message.tool_calls %}
                {%- if (loop.first and content) or (not loop.first) %}
                    {{- '\n' }}
                {%- endif %}
                {%- if tool_call.function %}
                    {%- set tool_call = tool_call.function %}
                {%- endif %}
                {{- '<tool_call>\n{"name": "' }}
                {{- tool_call.name }}
                {{- '", "arguments": ' }}
                {%- if tool_call.arguments is string %}
                    {{- tool_call.arguments }}
                {%- else %}
                    {{- tool_call.arguments | tojson }}
                {%- endif %}
                {{- '}\n</tool_call>' }}
            {%- endfor %}
        {%- endif %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if loop.first or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
    {%- if enable_thinking is defined and enable_thinking is false %}
        {{- '<think>\n\n</think>\n\n' }}
    {%- endif %}
{%- endif %}"""
GEMMA3 = r"""{{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
    {%- if messages[0]['content'] is string -%}
        {%- set first_user_prefix = messages[0]['content'] + '

' -%}
    {%- else -%}
        {%- set first_user_prefix = messages[0]['content'][0]['text'] + '

' -%}
    {%- endif -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = "" -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message['role'] == 'assistant') -%}
        {%- set role = "model" -%}
    {%- else -%}
        {%- set role = message['role'] -%}
    {%- endif -%}
    {{ '<start_of_turn>' + role + '
' + (first_user_prefix if loop.first else "") }}
    {%- if message['content'] is string -%}
        {{ message['content'] | trim }}
    {%- elif message['content'] is iterable -%}
        {%- for item in message['content'] -%}
            {%- if item['type'] == 'image' -%}
                {{ '<start_of_image>' }}
            {%- elif item['type'] == 'text' -%}
                {{ item['text'] | trim }}
            {%- endif -%}
        {%- endfor -%}
    {%- else -%}
        {{ raise_exception("Invalid content type") }}
    {%- endif -%}
    {{ '<end_of_turn>
' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{'<start_of_turn>model
'}}
{%- endif -%}
"""
LLAMA31 = r"""{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}
{{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
{%- if builtin_tools is defined or tools is not none %}
    {{- "Environment: ipython\n" }}
{%- endif %}
{%- if builtin_tools is defined %}
    {{- "Tools: " + builtin_tools | reject('equalto', 'code_interpreter') | join(", ") + "\n\n"}}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\n" }}
{{- "Today Date: " + date_string + "\n\n" }}
{{- system_message }}
{{- "<|eot_id|>" }}
{%- if tools_in_user_message and not tools is none %}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
{%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\n\n' -}}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}
{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- set tool_call = message.tool_calls[0].function %}
        {%- if builtin_tools is defined and tool_call.name in builtin_tools %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
            {{- "<|python_tag|>" + tool_call.name + ".call(" }}
            {%- for arg_name, arg_val in tool_call.arguments | items %}
                {{- arg_name + '="' + arg_val + '"' }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- endif %}
                {%- endfor %}
            {{- ")" }}
        {%- else  %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
            {{- '{"name": "' + tool_call.name + '", ' }}
            {{- '"parameters": ' }}
            {{- tool_call.arguments | tojson }}
            {{- "}" }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\n\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}
"""
CHAT2 = [m for m in CHAT if not isinstance(m["content"], list)]
MODEL_CASES = []
for tpl in [QWEN3, GEMMA3, LLAMA31]:
    for ctx in [{"messages": CHAT2}, {"messages": CHAT2, "tools": TOOLS}, {"messages": CHAT, "add_generation_prompt": True, "bos_token": "<s>"},
                {"messages": CHAT2[:2], "add_generation_prompt": True, "enable_thinking": False}, {"messages": CHAT2, "builtin_tools": ["get_weather", "code_interpreter"]}]:
        MODEL_CASES.append((tpl, ctx))

# ---- more snippets
SNIPPETS = [
 "  {%- if true %}\n  a\n  {%- endif %}\n  b",
 "{% for i in range(3) %}\n  {{ i }}\n{% endfor %}\n",
 "{% for i in range(3) -%}\n  {{ i }}\n{%- endfor %}",
 "a\n\n  {# comment #}  \n\nb",
 "x {#- c #}\n  y",
 "{% raw %}\n  {{ x }}\n  {% endraw %}\n",
 "  {% raw %}a{% endraw %}",
 "{%- raw %} a {% endraw -%} b",
 "a\t\t{% if 1 %}b{% endif %}",
 "{{ 'a' }}\n{% if true %}\nb\n{% endif %}",
 "{% if true %}a{% endif %}    \n  {% if true %}b{% endif %}",
 "{{- ' x ' -}}",
 "\n\n{%- set x = 1 -%}\n\n{{ x }}\n\n",
 "{% set x %}\n  block\n{% endset %}[{{ x }}]",
 "{% macro m() -%}\n  body\n{%- endmacro %}[{{ m() }}]",
 "{{ '{{' }}{{ '}}' }}{{ {'a': {'b': 1}} }}",
 "{{ {'a': 1}['a'] }}{{ [[1, 2], [3]][0][1] }}",
 "{{ 1 if true else 2 if false else 3 }}|{{ (1 if false) is defined }}",
 "{{ -2 ** 2 }}|{{ 2 ** 3 ** 2 }}|{{ -1|abs }}|{{ not true == false }}|{{ 1 + 2 ~ 3 }}|{{ 2 * 3 ~ 4 }}",
 "{{ 10 / 4 }}|{{ 10 // 4 }}|{{ -10 // 4 }}|{{ 10 % -3 }}|{{ 1.5 % 1 }}|{{ 3 * 1.0 }}|{{ 1e300 * 1e300 }}|{{ 0.1 * 3 }}|{{ 100000000000000000.0 }}|{{ 123456789012345678 }}|{{ 1/3 }}",
 "{{ 'abc'[1] }}{{ 'abc'[-1] }}{{ 'abc'[5] }}|{{ [1,2,3][-5:] }}|{{ 'hello'[1:-1:2] }}|{{ [1,2,3,4,5][4:1:-2] }}",
 "{{ none }}|{{ true }}|{{ [none, false] }}|{{ {'a': none} }}|{{ {1: 'x', none: 2} }}",
 "{{ '%d items' % 3 }}|{{ '%.2f' % 3.14159 }}|{{ '%5s|%-5s|' % ('a', 'b') }}|{{ '%x' % 255 if false else 'skip' }}",
 "{{ 'x'.join(['a','b']) }}|{{ ', '.join(l) }}|{{ l|join(', ') }}",
 "{% for k, v in d|dictsort %}{{ k }}{{ v }}{% endfor %}|{{ d|dictsort(by='value') }}|{{ d|dictsort(reverse=true) }}",
 "{% for a in l %}{% for b in l %}{% if b == 2 %}{% break %}{% endif %}{{ a }}{{ b }},{% endfor %}{% endfor %}",
 "{% for x in l %}{{ loop.index }}{% if loop.index == 2 %}{% continue %}{% endif %}x{% else %}E{% endfor %}",
 "{% set ns = namespace(items=[]) %}{% for x in l %}{% set ns.items = ns.items + [x * 2] %}{% endfor %}{{ ns.items }}",
 "{% set a = [1] %}{% set b = a %}{% do b.append(2) %}{{ a }}",
 "{{ l|map('int')|sum }}|{{ l|map('string')|join }}|{{ l|select('gt', 1)|list }}|{{ l|reject('eq', 2)|list }}",
 "{{ d.items()|list }}|{{ d|items|map('first')|list }}|{{ d.a }}{{ d['b'] }}",
 "{{ '  \n x \t '.strip() }}|{{ 'a,b'.split(',')|length }}|{{ 'abc'.startswith('') }}|{{ ''.split(',') }}|{{ ''.split() }}",
 "{{ 'a\nb\n'.splitlines() }}|{{ 'ab'.count('') }}|{{ 'aaa'.count('aa') }}",
 "{{ messages[0].content.split(' ')[-1] }}|{{ messages|length }}|{{ messages[-1]['role'] }}",
 "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% else %}{% set loop_messages = messages %}{% endif %}{% for m in loop_messages %}{{ m.role }}{% endfor %}",
 "{{ x is defined and x }}|{{ x|default(5) }}|{{ x|d }}|{{ (x or 'fb') }}",
 "{{ 3 is number and 3 is not string }}|{{ 'a' is not mapping }}|{{ l is iterable }}|{{ d is mapping }}|{{ 1.0 is float }}|{{ 2 is integer }}",
 "{{ l|first }}{{ l|last }}{{ 'abc'|first }}{{ 'abc'|last }}{{ []|first }}|{{ l|length }}{{ 'héé'|length }}{{ d|length }}",
 "{{ l|batch(2)|list if false else 'nb' }}",
 "{% set t = (1, 'a') %}{{ t[0] }}{{ t|length }}{{ t }}{{ t + (2,) }}",
 "{{ [3, 1, 2]|sort|first }}|{{ ['b', 'a']|sort|join }}|{{ [{'n': 2}, {'n': 1}]|sort(attribute='n')|map(attribute='n')|list }}",
 "{{ 'a' ~ 1 ~ 1.0 ~ none ~ [1] }}",
 "{{ 'abc' < 'abd' }}{{ [1, 2] < [1, 3] }}{{ 'B' < 'a' }}{{ 2 > 1.5 }}",
 "{% macro m(a, b) %}{{ a }}|{{ b }}{% endmacro %}{{ m(1) }}|{{ m() }}",
 "{% macro outer() %}{% macro inner() %}I{% endmacro %}{{ inner() }}O{% endmacro %}{{ outer() }}",
 "{% for i in range(2) %}{% set x = i %}{% endfor %}{{ x }}",
 "{% set x = 1 %}{% if true %}{% set x = 2 %}{% endif %}{{ x }}",
 "{% for m in messages if m.role != 'system' %}{{ loop.index }}{{ m.role }}{% endfor %}",
 "{{ messages|selectattr('role', 'in', ['user', 'system'])|map(attribute='role')|join(',') }}",
 "{{ messages|map(attribute='role')|unique|list }}|{{ messages|rejectattr('content')|list|length }}",
 "{{ 7|string + 'x' }}|{{ (7|string)|length }}|{{ 3.0|int }}|{{ '0x1A'|int(base=16) }}|{{ '12abc'|int }}|{{ ' 5 '|int }}|{{ '-3'|int }}|{{ '1e3'|float }}|{{ '1_000'|int }}",
 "{{ 2.675|round(2) }}|{{ 0.5|round }}|{{ 1.5|round }}|{{ -0.5|round }}|{{ 1234.5678|round(-2) }}",
 "{{ d.get('zz', {}).get('y', 'deep') }}|{{ d.zz is undefined }}",
 "{% if d %}T{% endif %}{% if {} %}x{% else %}F{% endif %}",
 "{{ '\\n' }}|{{ \"\\\"\" }}|{{ '\\'' }}|{{ '\\q' }}|{{ '\\101' }}",
 "{{ l[0:2]|join('+') }}{% for x in l[::-1] %}{{ x }}{% endfor %}",
 "{{ \"It's\" }} {{ 'say \"x\"' }}",
 "{%- for message in messages -%}{{- message.role|upper -}}{%- if not loop.last -%},{%- endif -%}{%- endfor -%}",
 "{{ (messages|last).role }}|{{ (messages|first)['content'] }}",
 "{{ 'a' in ['a'] and 'b' not in ['a'] }}|{{ 1 in [1.0] }}|{{ none in [none] }}",
 "{{ d|tojson(indent=2, sort_keys=true) }}",
 "{{ [1, [2, [3, []]], {}]|tojson(indent='\t') }}",
 "{% set x = [1,2,3] %}{{ x.pop(0) }}{{ x }}{{ x.index(3) }}",
 "{% set d2 = {} %}{% do d2.update({'a': 1}) %}{% do d2.update(b=2) %}{{ d2 }}{{ d2.pop('a') }}{{ d2 }}{{ d2.setdefault('c', 3) }}{{ d2 }}",
 "{{ l|max }}{{ l|min }}{{ ['b', 'A']|min }}{{ l|sum(start=10) }}",
 "{{ 'a-b c'.title() }}|{{ \"they're bill's\".title() }}|{{ \"they're bill's\"|title }}",
 "{{ 'a b c'.split(none, 1) }}|{{ ' a b '.rsplit(None, 1) }}|{{ 'a,b,c'.rsplit(',', 1) }}|{{ 'a,,b'.split(',,') }}",
 "{{ '{0}-{0}'.format('x') }}|{{ 'x{}y'.format([1]) }}",
 "{% filter upper %}{% for i in l %}{{ i }}a{% endfor %}{% endfilter %}",
 "{{ strftime_now('%A %j %H:%M') }}",
 "{% set x = 'a' %}{% set x = x ~ 'b' %}{{ x }}{% set y = x * 2 %}{{ y }}",
 "{{ [1, 2, 3]|reverse|list }}|{{ 'abc'|reverse }}|{{ (1, 2)|list }}",
 "{{ loop }}",
 "{% for x in l %}{{ loop.cycle('a', 'b', 'c') }}{{ loop.depth }}{% endfor %}",
 "{% set j = joiner('|') %}{% for x in l %}{{ j() }}{{ x }}{% endfor %}",
 "{{ 5 is divisibleby(5) }}{{ 5 is odd }}{{ 0 is even }}{{ -3 is odd }}",
 "{{ undefined_var is none }}{{ none is defined }}{{ undefined_var is string }}",
]
ERROR_SNIPPETS = [  # errors expected on both sides
 "{{ x.y }}", "{{ x + 1 }}", "{{ 1 + none }}", "{{ [1] + 'a' }}", "{{ 1 / 0 }}", "{% for x in 5 %}{% endfor %}",
 "{{ {'a': 1}.nope() }}", "{{ 'a' < 1 }}", "{{ none.x.y }}", "{{ 'x' in 5 }}", "{{ 5 in 'x' }}", "{{ l[1:2:0] }}",
 "{% if %}{% endif %}", "{{ }}", "{% for %}", "{% endif %}", "{{ 1 + }}", "{{ a b }}", "{% set %}", "{{ 'a' ~ }}",
 "{{ raise_exception('boom') }}", "{{ [1,2].index(5) }}", "{% set a, b = [1, 2, 3] %}", "{{ x() }}", "{{ 1() }}",
 "{{ l|join(1) if false else l|nosuch }}", "{{ x|tojson }}", "{{ {'a': x}|tojson }}", "{{ '%d' % 'a' }}", "{{ '%s %s' % ('a',) }}",
 "{% macro m() %}{% endmacro %}{{ m(x=1, y=2)|length if false else m(q=1).nope.x }}",
]
SNIPPET_CTX = {"l": [1, 2, 3], "d": {"a": 1, "b": 2}, "messages": [{"role": "system", "content": "Sys msg here"}, {"role": "user", "content": "Hi you"}, {"role": "assistant", "content": ""}]}

SNIPPETS3 = [
 "{{ {'b': 1, 'a': 2}|tojson }}|{{ [1.0, 2.50, -0.0, 1e-10, 1e22, 123456789.125]|tojson }}|{{ 'tab\there'|tojson }}|{{ '\u2028'|tojson }}|{{ '\x7f\x01'|tojson }}|{{ '🦙é'|tojson(ensure_ascii=true) }}",
 "{{ x|tojson }}", "{{ msgs|tojson(indent=2) }}", "{{ msgs[0]|tojson(separators=(',', ': '), indent=1) }}",
 "{% for m in msgs %}{{ m.content|trim }}|{{ m.content is none }}{% endfor %}",
 "{{ 'a' if msgs[1].content else 'b' }}",
 "{% if msgs[1].tool_calls is defined and msgs[1].tool_calls %}x{% endif %}{% for t in msgs[1].tool_calls %}{{ t.function.name }}{{ t.function.arguments|tojson }}{% endfor %}",
 "{{ msgs[1].tool_calls[0].function.arguments.b }}",
 "{%- for m in msgs -%}\n  {%- if m.role == 'user' -%}\n    U: {{ m.content }}\n  {%- endif -%}\n{%- endfor -%}",
 "{% for m in msgs %}\n{% if loop.first %}\nFIRST\n{% endif %}\n{{ m.role }}\n{% endfor %}\n",
 "{{ 1.0 }} {{ 100.0 }} {{ 1e16 }} {{ 1.5e-5 }} {{ 0.0001 }} {{ 123456789.123456789 }} {{ 1e15 + 0.3 }}",
 "{{ (0.1 + 0.2)|string }} {{ 1/3*3 }} {{ 2**62*2 if false else 2**62 }}",
 "{{ 'abc'|center(9) }}|{{ 'ab'|center(7) }}|{{ 'abc'.ljust(5) }}|{{ 'abc'.rjust(5, '*') }}|{{ 'ab'.center(5, '-') }}",
 "{{ '  x'|indent(3) }}|{{ 'a\n b'|indent(first=true) }}",
 "{{ 'x'|e }}{{ '&amp;'|escape }}",
 "{{ '%%' % () }}",
 "{% for i in range(3) %}{{ i }}{% if not loop.last %}, {% endif %}{% endfor %}",
 "{{ ns }}{% set ns = namespace(a=1) %}{{ ns.a }}{{ ns.b is defined }}",
 "{% set n = namespace(d={'a': 1}) %}{{ n.d.a }}{% set n.d = n.d|tojson %}{{ n.d }}",
]
SNIPPET3_CTX = {"msgs": [{"role": "user", "content": "  padded  "}, {"role": "assistant", "content": None, "tool_calls": [{"function": {"name": "f", "arguments": {"b": [1, {"c": "é"}], "a": 1.5}}}]}]}

# ---- whitespace corners, precedence, numbers
SNIPPETS4 = [
 "{% if true %}  \n  x{% endif %}", "  {% if true -%}\n  x\n  {%- endif %}  \ny",
 "{%- if true %}\n\n{% endif %}", "\t{% for i in [1] %}\n\t{{ i }}\n\t{% endfor %}\n",
 "a {%- raw %} b {% endraw %}", "  {% raw -%}   a   {%- endraw %}  b",
 "{% raw %}\n  x\n{% endraw %}\n", "   {%- raw %}x{% endraw %}",
 "{#\nmulti\nline\n#}\nx", "  {#- x -#}  y", "x\n  {#+ c #}\ny",
 "{{ 'a' -}}\n\n  {{ 'b' }}", "{{- 'a' }}  {{ 'b' }}", "{{ 'x' }}{# c #}\n{{ 'y' }}",
 "{% if true %}a{% else %}b{% endif %}\n{% if false %}a{% else %}\nb\n{% endif %}",
 "{% for x in [1,2] %}{{ x }}{% else %}\nnone\n{% endfor %}",
 "text {%+ if true %}x{% endif %}", "line\n  {%+ if true %}x{% endif %}",
 "{% set x = 'a' %}\n{% set y = 'b' %}\n{{ x }}{{ y }}\n",
 "{% macro m() %}\n  in macro\n{% endmacro %}\n{{ m() }}|",
 "\r\n{% if true %}\r\n x\r\n{% endif %}\r\n\r\n",
 "{{ 'a\\tb' }}", "{{ \"a\\\\nb\" }}",
 "{{ '{' }}{{ '}' }}{{ '{%' }}{{ '%}' }}", "{{ '}}' }}", "{% set s = '%}' %}{{ s }}",
 "{{ {'a': {'b': {'c': 1}}}['a']['b']['c'] }}", "{{ [[1]] }}{{ [[[]]] }}",
 "{{ x | default('dflt') | upper }}", "{{ 'a' | replace('a', 'b') | replace('b', 'c') }}",
 "{{ 1 + 2 | string }}" , "{{ (1 + 2) | string }}", "{{ -1 | abs }}", "{{ not none | default(true) }}",
 "{{ l | length > 2 }}", "{{ l|length - 1 }}", "{{ 'x' ~ l|length }}", "{{ l[0] + l[1] * l[2] }}",
 "{{ l if l else 'empty' }}", "{{ [] if [] else 'empty' }}",
 "{% for a, b in [(1, 2)] if a == 1 %}{{ a }}{{ b }}{% endfor %}",
 "{% for x in l %}{% for y in l %}{{ loop.index }}{% endfor %}{{ loop.index }}{% endfor %}",
 "{% set x = namespace(v=[]) %}{% for i in range(3) %}{% set x.v = x.v + [i] %}{% endfor %}{{ x.v|join(',') }}",
 "{{ true and false or true }}{{ false or false and true }}{{ not false and true }}",
 "{{ 1 == 1 == 1 }}{{ 1 < 2 > 1 }}{{ 'a' in 'abc' in ['True'] }}",
 "{{ 3 - -3 }}{{ 3 + +3 }}{{ --3 }}",
 "{{ 'abc' * 0 }}|{{ [1] * -1 }}|{{ 2 * 'ab' }}",
 "{{ 7 % 0 if false else 1 }}",
 "{{ 'a%sb' % 'x' }}{{ '%s' % [1, 2] }}{{ '%s' % ((1, 2),) }}{{ '%(a)s' % {'a': 1} if false else '' }}",
 "{{ 0.1 + 0.7 }}|{{ 1e100 }}|{{ 5e-324 }}|{{ 1.7976931348623157e308 }}|{{ 2.5e-5 }}|{{ 12345.678e3 }}",
 "{{ 10 ** 18 }}|{{ 2 ** 0.5 }}|{{ (-8) ** (1/3) if false else 0 }}|{{ 4 ** -2 }}",
 "{{ l.0 }}{{ l.2 }}", "{{ d.a.b if false else d['a'] }}",
]
SNIPPET4_CTX = {"l": [1, 2, 3], "d": {"a": 1}}

for i, (tpl, ctx) in enumerate(MODEL_CASES):
    CASES.append(("model_%d" % i, tpl, ctx))
for i, s in enumerate(SNIPPETS):
    CASES.append(("snippet_%d" % i, s, SNIPPET_CTX))
for i, s in enumerate(SNIPPETS3):
    CASES.append(("snippet3_%d" % i, s, SNIPPET3_CTX))
for i, s in enumerate(SNIPPETS4):
    CASES.append(("snippet4_%d" % i, s, SNIPPET4_CTX))
ERROR_CASES = [("error_%d" % i, s, SNIPPET_CTX) for i, s in enumerate(ERROR_SNIPPETS)]

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
        except Exception:  # noqa: BLE001
            # Jinja2 raises on this one (a template's raise_exception, a type error): so must we.
            print("{%s,\n %s,\n %s,\n nullptr}," % (cpp_str(name), cpp_str(src), cpp_str(json.dumps(ctx))))
            continue
        print("{%s,\n %s,\n %s,\n %s}," % (cpp_str(name), cpp_str(src), cpp_str(json.dumps(ctx)), cpp_str(expected)))
    # Cases where Jinja2 raises: the expected output is nullptr (any pareto::Error will do).
    for name, src, ctx in ERROR_CASES:
        try:
            env.from_string(src).render(**json.loads(json.dumps(ctx, sort_keys=True)))
        except Exception:  # noqa: BLE001
            print("{%s,\n %s,\n %s,\n nullptr}," % (cpp_str(name), cpp_str(src), cpp_str(json.dumps(ctx))))
            continue
        sys.exit("case %s did not fail in Jinja2" % name)


if __name__ == "__main__":
    main()
