# cmake -DIN=page.html -DOUT=page.c -DNAME=symbol -P embed_page.cmake:
# the page as a C array (and its length), so the binary carries it and
# writes it without any file beside it.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "(..)" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
file(WRITE ${OUT} "/* Generated from ${IN} by embed_page.cmake: do not edit. */\n#include <stddef.h>\n"
  "const char ${NAME}[] = {\n${bytes}0x00};\nconst size_t ${NAME}_len = ${len};\n")
