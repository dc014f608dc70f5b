INSERT INTO items VALUES (1, 'first'), (2, 'second');
INSERT INTO applied_log (version) VALUES (2);
