-- One database per service (each service owns its data; see docs/adr/0002).
CREATE DATABASE ustaz_gateway;
CREATE DATABASE ustaz_courses;
CREATE DATABASE ustaz_progress;
CREATE DATABASE ustaz_certificates;
