module github.com/idwatch/idwatch

go 1.26
