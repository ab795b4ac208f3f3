package broken {
