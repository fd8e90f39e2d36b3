module github.com/idwatch/idwatch

go 1.26

require (
	github.com/go-jose/go-jose/v4 v4.1.8
	github.com/klauspost/compress v1.20.3
)
