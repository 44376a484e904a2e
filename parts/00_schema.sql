/* mtcbind--1.0.sql: install script of mtcbind 1.0 */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION mtcbind" to load this file. \quit

