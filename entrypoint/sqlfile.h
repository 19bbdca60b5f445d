/*
 * sqlfile.h - read a migration file: markers, sections, statements.
 * (Owned by the migrate work; this is the placeholder API.)
 */
#ifndef SQLFILE_H
#define SQLFILE_H

int sqlfile_placeholder(void);

#endif
